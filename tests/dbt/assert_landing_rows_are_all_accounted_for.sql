-- Every landing row is well-formed and accounted for, by the rule vacuum deletes by
-- (bronze.landing_consolidation): it names its bar, source and batch position, a valid
-- row is in bronze.ohlcv_daily (as itself or superseded by a later version of the same
-- bar) and an invalid row is in ohlcv_rejected; and no batch position is landed twice.
-- Returns each offending landing row with its problem. One read of landing checks all
-- (the landing files are the largest input of a full build). A daily build checks the
-- landing partitions it consolidated (landing_test_scope); full builds and `dbt test`
-- check all of landing. The scoped check also starts at the earliest bar those partitions
-- name (a constant the engine carries across the view's join on the bar's date; a row
-- without a date is still checked), so of bronze.ohlcv_daily it reads those dates' files.
-- depends_on: {{ ref('stg_landing__daily_bars') }}
{%- set scope_start = landing_test_scope() %}
{%- set scope = "cast(ingest_date as varchar) >= '" ~ scope_start ~ "'" %}
{%- set first_date = earliest_date(source('landing', 'raw_ohlcv'), 'date', scope)
    if scope_start is not none else none %}
with

landing as (

    select
        *,
        count(*) over (partition by batch_id, batch_row) as landed_times
    from {{ ref('landing_consolidation') }}
    {%- if scope_start is not none %}
        where {{ scope }} and (date >= {{ first_date }} or date is null)
    {%- endif %}

),

checked as (

    select
        landing_file,
        symbol,
        date,
        ingested_at,
        batch_id,
        batch_row,
        invalid_reason,
        coalesce(
            problem,
            case when landed_times > 1 then 'batch position landed more than once' end
        ) as problem
    from landing

)

select * from checked
where problem is not null
