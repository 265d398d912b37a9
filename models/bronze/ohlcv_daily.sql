{{
    config(
        materialized='incremental',
        unique_key=['symbol', 'date'],
        incremental_strategy=upsert_strategy(),
        partitioned_by=month_partitioning('date'),
        on_schema_change='fail',
    )
}}

with

bars as (

    select * from {{ ref('stg_polygon__daily_bars') }}
    where
        is_valid
        {% if is_incremental() -%}
            and ingested_at > {{ cursor_lookback('ingested_at', this) }}
        {%- endif %}

),

final as (

    select
        symbol,
        date,
        open,
        high,
        low,
        close,
        volume,
        vwap,
        transactions,
        source,
        ingested_at,
        batch_id
    from bars

)

select * from final
