-- noqa: disable=LT02
-- (outside a model the macro renders nothing, and sqlfluff's indent rule misreads its
-- opening `set` statements)
{#-
    One Silver resample: bars of `sessions` NYSE sessions, aligned on the calendar.

    A bar is the bucket floor(session_index / sessions) of the trading calendar, so bars
    line up across symbols whatever their listing date. Per (symbol, bucket): first open,
    max high, min low, last close, summed volume, sessions with data, volume-weighted vwap
    (over sessions that have one) and is_complete (the bucket's last calendar session is
    on or before the latest date loaded for any symbol).

    Incremental runs recompute only the buckets that new Bronze rows touch, plus buckets
    still marked incomplete (they may have completed without new rows for that symbol).
    Materialized incremental with on_schema_change='fail': silver's defaults
    (dbt_project.yml).
-#}
{% macro fibonacci_resample(sessions) %}

{{ config(
    unique_key=['symbol', 'bucket_start'],
    incremental_strategy=upsert_strategy(),
    partitioned_by=storage_partitioning(),
    properties=storage_partitioning_properties(),
) }}

{#- the cursor is read once: each read is a query of its own #}
{% set cursor = cursor_lookback('max_ingested_at', this) if is_incremental() else none %}
{% set first_session = (resample_first_session(sessions, cursor) if cursor else 0) or 0 %}

with

calendar as (

    select * from {{ ref('trading_calendar') }}

),

daily as (

    select * from {{ ref('ohlcv_daily') }}

),

buckets as (

    select
        {{ integer_divide('session_index', sessions) }} as bucket_number,
        min(session_date) as bucket_start,
        max(session_date) as bucket_end
    from calendar
    group by {{ integer_divide('session_index', sessions) }}

),

-- Bronze is read directly below, not through `daily`: DuckDB materialises a CTE that is
-- referenced more than once, which would copy all of history on every run.
latest_loaded as (

    -- the latest bar is at or after every touched one: older files need not be read
    -- (first_session is 0 on a full build)
    select max(date) as latest_date from {{ ref('ohlcv_daily') }}
    where session_index >= {{ first_session }}

),

{% if is_incremental() %}

touched as (

    select distinct
        symbol,
        {{ integer_divide('session_index', sessions) }} as bucket_number
    from {{ ref('ohlcv_daily') }}
    where ingested_at > {{ cursor }}

    union

    select
        symbol,
        bucket_number
    from {{ this }}
    where not is_complete

),

scope as (

    select
        touched.symbol,
        touched.bucket_number,
        buckets.bucket_start
    from touched
    inner join buckets on touched.bucket_number = buckets.bucket_number

),

{% endif %}

bucketed as (

    select
        daily.symbol,
        daily.date,
        daily.open,
        daily.high,
        daily.low,
        daily.close,
        daily.volume,
        daily.vwap,
        daily.ingested_at,
        {{ integer_divide('daily.session_index', sessions) }} as bucket_number
    from daily
    {% if is_incremental() %}
        inner join scope
            on
                daily.symbol = scope.symbol
                and {{ integer_divide('daily.session_index', sessions) }} = scope.bucket_number
        -- a constant lower bound lets the engine skip old row groups before joining
        where daily.session_index >= {{ first_session }}  -- noqa: LT02
    {% endif %}

),

aggregated as (

    select
        symbol,
        bucket_number,
        min_by(open, date) as open,
        max(high) as high,
        min(low) as low,
        max_by(close, date) as close,
        {{ exact_sum('volume') }} as volume,
        count(*) as n_sessions,
        {{ exact_sum('vwap * volume') }}
        / nullif({{ exact_sum('case when vwap is not null then volume end') }}, 0) as vwap,
        max(ingested_at) as max_ingested_at
    from bucketed
    group by symbol, bucket_number

),

final as (

    select
        aggregated.symbol,
        buckets.bucket_start,
        buckets.bucket_end,
        aggregated.bucket_number,
        aggregated.open,
        aggregated.high,
        aggregated.low,
        aggregated.close,
        aggregated.volume,
        aggregated.vwap,
        cast(aggregated.n_sessions as integer) as n_sessions,
        buckets.bucket_end <= latest_loaded.latest_date as is_complete,
        aggregated.max_ingested_at,
        {{ built_at() }} as built_at,
        {{ storage_period('buckets.bucket_start', ref('ohlcv_daily')) }} as storage_period
    from aggregated
    inner join buckets on aggregated.bucket_number = buckets.bucket_number
    cross join latest_loaded

)

select * from final
{{ cluster_order('bucket_start') }}
-- cluster_order: in bucket order on DuckDB, so the daily upsert's delete and its scan for
-- incomplete buckets read only the newest row groups

{% endmacro %}
