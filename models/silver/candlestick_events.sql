{{ config(materialized='view') }}

with

patterns as (

    select * from {{ ref('candlestick_patterns') }}

),

catalog as (

    select * from {{ ref('pattern_catalog') }}

),

signals as (

    {{ unpivot(
        'patterns', ['symbol', 'date', 'built_at'], candle_pattern_names(), 'pattern', 'signal'
    ) }}

),

fired as (

    select
        symbol,
        date,
        pattern,
        signal,
        built_at
    from signals
    where signal != 0

),

final as (

    select
        fired.symbol,
        fired.date,
        fired.pattern,
        fired.signal,
        catalog.display_name,
        catalog.kind,
        catalog.is_descriptor,
        -- A descriptor's sign is the candle's colour (or always +100): not a direction.
        case
            when catalog.is_descriptor then 'neutral'
            when fired.signal > 0 then 'bullish'
            else 'bearish'
        end as direction,
        fired.built_at
    from fired
    -- left: an event is never dropped; tests/python/test_pattern_catalog.py keeps the
    -- catalog's patterns equal to candle_pattern_names()
    left join catalog on fired.pattern = catalog.pattern

)

select * from final
