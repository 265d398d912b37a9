{#- full_refresh=false: once vacuum has removed old landing files this table is the system
    of record, so --full-refresh must not rebuild it from what landing still holds. For
    the same reason a new column is appended (null on older rows), never a rebuild. -#}
{{
    config(
        materialized='incremental',
        unique_key=['batch_id', 'batch_row'],
        incremental_strategy=upsert_strategy(),
        on_schema_change='append_new_columns',
        full_refresh=false,
    )
}}

{{ require_full_landing_scope(ref('stg_polygon__daily_bars')) }}

with

rejected as (

    select * from {{ ref('stg_polygon__daily_bars') }}
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
