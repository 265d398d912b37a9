{#-
    The one rule of what bronze holds of landing, per landing row: read by the
    reconciliation test (assert_landing_rows_are_all_accounted_for) and by vacuum
    (orchestration/vacuum.py), so a green test is what vacuum deletes by.

    A view: it reads landing in place and costs nothing to build. A row is consolidated
    when staging's verdict (landing_invalid_reason) put it where bronze keeps it: a valid
    row in ohlcv_daily as itself or superseded by a later version of its bar, an invalid
    row in ohlcv_rejected under its batch position. A valid row is settled once it landed
    more than the margin before ohlcv_daily's cursor: dbt re-ranks the landing rows inside
    its look-back on every build, and deleting a winner there could let an older version
    win. The margin is at least a day, so a wider look-back passed with --vars on one run
    is still covered.
-#}
{{ config(materialized='view') }}

{%- set margin_minutes = [var('cursor_lookback_minutes', 60) | int, 24 * 60] | max %}

with

landing as (

    -- the landing file: a hidden column on Athena/Trino (so not in `*`), named the same
    -- by the DuckDB lake macros
    select
        *,
        "$path" as landing_file
    from {{ source('landing', 'raw_ohlcv') }}

),

consolidated as (

    select * from {{ ref('ohlcv_daily') }}

),

rejected as (

    select * from {{ ref('ohlcv_rejected') }}

),

daily_cursor as (

    select max(ingested_at) as bronze_cursor from consolidated
    -- bronze's cursor only grows (ohlcv_daily is never rebuilt, and a bar's later version
    -- landed later), so its look-back when this view is built is a floor: a constant that
    -- lets the engine skip every file of older rows
    where ingested_at >= {{ cursor_lookback('ingested_at', ref('ohlcv_daily')) }}

),

judged as (

    select
        landing.landing_file,
        landing.ingest_date,
        landing.batch_id,
        landing.batch_row,
        landing.symbol,
        cast(landing.date as date) as date,
        cast(landing.ingested_at as timestamp(6)) as ingested_at,
        landing.source,
        {{ landing_invalid_reason('cast(landing.invalid_reason as varchar)', 'landing') }}
            as invalid_reason
    from landing

),

checked as (

    select
        judged.*,
        judged.invalid_reason is null as is_valid,
        case
            when
                judged.symbol is null
                or judged.date is null
                or judged.ingested_at is null
                or judged.source is null
                or judged.batch_id is null
                or judged.batch_row is null
                then 'a key column is null'
            when judged.invalid_reason is null and consolidated.symbol is null
                then 'valid row not in ohlcv_daily'
            when judged.invalid_reason is not null and rejected.batch_id is null
                then 'invalid row not in ohlcv_rejected'
        end as problem,
        daily_cursor.bronze_cursor,
        -- invalid rows are all kept by ohlcv_rejected: only valid ones are re-ranked
        coalesce(
            judged.invalid_reason is not null
            or judged.ingested_at
            <= {{ dbt.dateadd('minute', -1 * margin_minutes, 'daily_cursor.bronze_cursor') }},
            false
        ) as is_settled
    from judged
    cross join daily_cursor
    -- keys and the version only in the join conditions: a filter on one side would turn
    -- the hash joins into nested loops (the CASE above tells valid from invalid rows)
    left join consolidated
        on
            judged.symbol = consolidated.symbol
            and judged.date = consolidated.date
            and judged.ingested_at <= consolidated.ingested_at
    left join rejected
        on
            judged.batch_id = rejected.batch_id
            and judged.batch_row = rejected.batch_row

),

final as (

    select
        landing_file,
        ingest_date,
        batch_id,
        batch_row,
        symbol,
        date,
        ingested_at,
        source,
        invalid_reason,
        is_valid,
        problem,
        problem is null as is_consolidated,
        bronze_cursor,
        is_settled
    from checked

)

select * from final
