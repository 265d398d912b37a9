{{ config(severity='warn') }}
-- Sessions an active symbol misses between its first bar and the latest loaded date.
-- A warning, not an error: thinly traded names legitimately skip sessions without
-- trades, but a burst of these after a run points at a partial ingestion.
with

calendar as (

    select session_date from {{ ref('trading_calendar') }}

),

symbols as (

    select * from {{ ref('dim_symbol') }}
    where is_active

),

daily as (

    select * from {{ ref('ohlcv_daily') }}

),

latest as (

    select max(date) as latest_date from daily

),

expected as (

    select
        symbols.symbol,
        calendar.session_date
    from symbols
    cross join latest
    inner join calendar
        on calendar.session_date between symbols.first_trade_date and latest.latest_date

)

select
    expected.symbol,
    expected.session_date
from expected
left join daily
    on
        expected.symbol = daily.symbol
        and expected.session_date = daily.date
where daily.symbol is null
