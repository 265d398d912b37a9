-- Every landing row is well-formed and accounted for: it names its bar, source and batch
-- position, no batch position is landed twice, a valid row is in bronze.ohlcv_daily (as
-- itself or superseded by a later version of the same bar) and an invalid row is in
-- ohlcv_rejected. Returns each offending landing row with its problem. One read of
-- landing checks all four (the landing files are the largest input of a full build). A
-- daily build checks the landing partitions it consolidated (landing_test_scope); full
-- builds and `dbt test` check all of landing.
-- depends_on: {{ ref('stg_polygon__daily_bars') }}
{%- set scope_start = landing_test_scope() %}
with

landing as (

    select
        symbol,
        cast(date as date) as date,
        cast(ingested_at as timestamp(6)) as ingested_at,
        source,
        batch_id,
        batch_row,
        -- staging's verdict: landing's, or for a row it let through, its value rules again
        coalesce(cast(invalid_reason as varchar), {{ bar_value_problems() }}) as invalid_reason,
        count(*) over (partition by batch_id, batch_row) as landed_times
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

checked as (

    select
        landing.symbol,
        landing.date,
        landing.ingested_at,
        landing.batch_id,
        landing.batch_row,
        landing.invalid_reason,
        case
            when
                landing.symbol is null
                or landing.date is null
                or landing.ingested_at is null
                or landing.source is null
                or landing.batch_id is null
                or landing.batch_row is null
                then 'a key column is null'
            when landing.landed_times > 1 then 'batch position landed more than once'
            when landing.invalid_reason is null and consolidated.symbol is null
                then 'valid row not in ohlcv_daily'
            when landing.invalid_reason is not null and rejected.batch_id is null
                then 'invalid row not in ohlcv_rejected'
        end as problem
    from landing
    -- keys and the version only in the join conditions: a filter on one side would turn
    -- the hash joins into nested loops (the CASE above tells valid from invalid rows)
    left join consolidated
        on
            landing.symbol = consolidated.symbol
            and landing.date = consolidated.date
            and landing.ingested_at <= consolidated.ingested_at
    left join rejected
        on
            landing.batch_id = rejected.batch_id
            and landing.batch_row = rejected.batch_row

)

select * from checked
where problem is not null
