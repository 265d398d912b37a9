{#- Fails for bars with no sessions, more sessions than N, or a span that is not N sessions. -#}
{% test resample_sessions_within(model, sessions) %}
with

calendar as (

    select
        session_date,
        session_index
    from {{ ref('trading_calendar') }}

),

bars as (

    select
        bars.symbol,
        bars.bucket_start,
        bars.n_sessions,
        starts.session_index as start_index,
        ends.session_index as end_index
    from {{ model }} as bars
    inner join calendar as starts on bars.bucket_start = starts.session_date
    inner join calendar as ends on bars.bucket_end = ends.session_date

)

select *
from bars
where
    n_sessions < 1
    or n_sessions > {{ sessions }}
    or end_index - start_index + 1 > {{ sessions }}
    or {{ integer_divide('start_index', sessions) }} * {{ sessions }} != start_index
{% endtest %}
