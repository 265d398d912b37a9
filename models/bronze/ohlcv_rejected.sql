{#- Incremental, full_refresh=false and append_new_columns come from bronze's defaults in
    dbt_project.yml: once vacuum has removed old landing files this table is the system of
    record, so it is never rebuilt from what landing still holds. -#}
{{
    config(
        unique_key=['batch_id', 'batch_row'],
        incremental_strategy=upsert_strategy(),
    )
}}

{{ require_full_landing_scope(ref('stg_landing__daily_bars')) }}

with

rejected as (

    select * from {{ ref('stg_landing__daily_bars') }}
    where
        not is_valid
        {% if is_incremental() -%}
            and ingested_at > {{ cursor_lookback('ingested_at', this) }}
        {%- endif %}

),

final as (

    select
        batch_id,
        batch_row,
        symbol,
        date,
        open,
        high,
        low,
        close,
        volume,
        vwap,
        transactions,
        invalid_reason,
        source,
        ingested_at,
        {{ built_at() }} as built_at
    from rejected

)

select * from final
