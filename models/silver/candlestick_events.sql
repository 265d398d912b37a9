{{ config(materialized='view') }}

with

patterns as (

    select * from {{ ref('candlestick_patterns') }}

),

signals as (

    {{ unpivot('patterns', ['symbol', 'date'], candle_pattern_names(), 'pattern', 'signal') }}

),

final as (

    select
        symbol,
        date,
        pattern,
        signal
    from signals
    where signal != 0

)

select * from final
