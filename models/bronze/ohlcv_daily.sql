{#- Incremental, full_refresh=false and append_new_columns come from bronze's defaults in
    dbt_project.yml: once vacuum has removed old landing files this table is the system of
    record, so it is never rebuilt from what landing still holds. -#}
{{
    config(
        unique_key=['symbol', 'date'],
        incremental_strategy=upsert_strategy(),
        partitioned_by=storage_partitioning(),
        properties=storage_partitioning_properties(),
    )
}}

{{ require_full_landing_scope(ref('stg_landing__daily_bars')) }}

with

bars as (

    select * from {{ ref('stg_landing__daily_bars') }}
    where
        is_valid
        {% if is_incremental() -%}
            and ingested_at > {{ cursor_lookback('ingested_at', this) }}
        {%- endif %}

),

calendar as (

    select * from {{ ref('trading_calendar') }}

),

final as (

    select
        bars.symbol,
        bars.date,
        calendar.session_index,
        bars.open,
        bars.high,
        bars.low,
        bars.close,
        bars.volume,
        bars.vwap,
        bars.transactions,
        bars.source,
        bars.ingested_at,
        bars.batch_id,
        {{ built_at() }} as built_at,
        {{ storage_period('bars.date', ref('stg_landing__daily_bars')) }} as storage_period
    from bars
    -- valid bars are on sessions by construction (rule not_a_session)
    inner join calendar on bars.date = calendar.session_date

)

-- Clustered on DuckDB by month, then symbol and date (cluster_order): the resamples' and
-- patterns' constant session bounds skip every older month's row groups, and within a
-- month a symbol's rows sit together, which keeps the resamples' hash aggregation local
-- (a quarter faster than date order). A day's increment is appended in this order too.
select * from final
{{ cluster_order("date_trunc('month', date), symbol, date") }}
