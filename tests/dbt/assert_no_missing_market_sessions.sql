-- Inside the span where the whole market is loaded, every NYSE session has bars: a
-- session with none is an ingestion gap. The span starts and ends with sessions carrying
-- at least a tenth of the busiest session's symbols, so a lone symbol's longer history
-- (a split restatement reaching back years) does not stretch it. Returns the gaps.
-- A daily build checks the month before the earliest bar it wrote (changed_since): a
-- gap it could leave lies between the last session loaded before it and its bars.
{%- set since = changed_since('ohlcv_daily', 'date') %}
with

calendar as (

    select session_date from {{ ref('trading_calendar') }}

),

daily as (

    select * from {{ ref('ohlcv_daily') }}
    {%- if since is not none %}
        where date >= {{ dbt.dateadd('day', -31, "cast('" ~ since ~ "' as date)") }}
    {%- endif %}

),

symbols_per_session as (

    select
        date,
        count(*) as symbols
    from daily
    group by date

),

busiest as (

    select max(symbols) as symbols from symbols_per_session

),

market_span as (

    select
        min(symbols_per_session.date) as first_date,
        max(symbols_per_session.date) as last_date
    from symbols_per_session
    cross join busiest
    where symbols_per_session.symbols * 10 >= busiest.symbols

)

select calendar.session_date
from calendar
cross join market_span
left join symbols_per_session on calendar.session_date = symbols_per_session.date
where
    calendar.session_date between market_span.first_date and market_span.last_date
    and symbols_per_session.date is null
