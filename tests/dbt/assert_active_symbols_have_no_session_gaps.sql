{{ config(severity='warn') }}
-- Sessions an active symbol misses between its first bar and the latest loaded date.
-- A warning, not an error: thinly traded names legitimately skip sessions without
-- trades, but a burst of these after a run points at a partial ingestion. A daily build
-- checks the sessions from the earliest bar it wrote (changed_since).
{%- set since = changed_since('ohlcv_daily', 'date') %}
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

checked as (

    select * from daily
    {%- if since is not none %}
        where date >= cast('{{ since }}' as date)
    {%- endif %}

),

latest as (

    -- the latest date is among the rows this run wrote, when it wrote any
    select max(date) as latest_date from {{ 'checked' if since is not none else 'daily' }}

),

expected as (

    select
        symbols.symbol,
        calendar.session_date
    from symbols
    cross join latest
    inner join calendar
        on calendar.session_date between symbols.first_trade_date and latest.latest_date
    {%- if since is not none %}
        where calendar.session_date >= cast('{{ since }}' as date)
    {%- endif %}

)

select
    expected.symbol,
    expected.session_date
from expected
left join checked
    on
        expected.symbol = checked.symbol
        and expected.session_date = checked.date
where checked.symbol is null
