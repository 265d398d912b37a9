-- Between the first and the last loaded date, every NYSE session has bars for at least
-- one symbol: a whole missing session means an ingestion gap. Returns the empty sessions.
with

calendar as (

    select session_date from {{ ref('trading_calendar') }}

),

daily as (

    select * from {{ ref('ohlcv_daily') }}

),

loaded_span as (

    select
        min(date) as first_date,
        max(date) as last_date
    from daily

),

sessions_with_data as (

    select distinct date from daily

)

select calendar.session_date
from calendar
cross join loaded_span
left join sessions_with_data on calendar.session_date = sessions_with_data.date
where
    calendar.session_date between loaded_span.first_date and loaded_span.last_date
    and sessions_with_data.date is null
