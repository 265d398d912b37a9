{{ config(materialized='view') }}

with

patterns as (

    select * from {{ ref('candlestick_patterns') }}

),

signals as (

    {{ unpivot(
        'patterns', ['symbol', 'date', 'built_at'], candle_pattern_names(), 'pattern', 'signal'
    ) }}

),

final as (

    select
        symbol,
        date,
        pattern,
        signal,
        built_at
    from signals
    where signal != 0

)

select * from final
