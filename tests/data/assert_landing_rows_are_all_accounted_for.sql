-- Every landing row is accounted for: a valid row is in bronze.ohlcv_daily (as itself or
-- superseded by a later version of the same bar); an invalid row is in ohlcv_rejected.
-- Returns the landing rows that are lost. A daily build checks the landing partitions it
-- consolidated (landing_test_scope); full builds and `dbt test` check all of landing.
-- depends_on: {{ ref('stg_polygon__daily_bars') }}
{%- set scope_start = landing_test_scope() %}
with

landing as (

    select
        symbol,
        cast(date as date) as date,
        cast(ingested_at as timestamp(6)) as ingested_at,
        batch_id,
        batch_row,
        invalid_reason
    from {{ source('polygon', 'raw_ohlcv') }}
    {%- if scope_start is not none %}
        where cast(ingest_date as varchar) >= '{{ scope_start }}'
    {%- endif %}

),

consolidated as (

    select * from {{ ref('ohlcv_daily') }}

),

rejected as (

    select * from {{ ref('ohlcv_rejected') }}

),

lost_valid as (

    select
        landing.symbol,
        landing.date,
        landing.ingested_at,
        landing.batch_id,
        landing.batch_row,
        landing.invalid_reason
    from landing
    left join consolidated
        on
            landing.symbol = consolidated.symbol
            and landing.date = consolidated.date
            and landing.ingested_at <= consolidated.ingested_at
    where landing.invalid_reason is null and consolidated.symbol is null

),

lost_invalid as (

    select
        landing.symbol,
        landing.date,
        landing.ingested_at,
        landing.batch_id,
        landing.batch_row,
        landing.invalid_reason
    from landing
    left join rejected
        on
            landing.batch_id = rejected.batch_id
            and landing.batch_row = rejected.batch_row
    where landing.invalid_reason is not null and rejected.batch_id is null

)

select * from lost_valid
union all
select * from lost_invalid
