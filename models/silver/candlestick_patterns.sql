{#- incremental and on_schema_change='fail': silver's defaults (dbt_project.yml) -#}
{{ config(
    unique_key=['symbol', 'date'],
    incremental_strategy=upsert_strategy(),
    partitioned_by=storage_partitioning(),
    properties=storage_partitioning_properties(),
) }}

{#-
    Every output row depends on at most `history` earlier bars of its symbol. An
    incremental run reads, per symbol with new Bronze rows, the bars from `margin`
    sessions before its first new row; a symbol with fewer than `history` bars there
    (a long gap, or a recent listing) is read whole instead.
-#}
{% set history = candle_history_bars() %}
{% set margin = 2 * history %}
{#- the cursor is read once: each read is a query of its own -#}
{% set cursor = cursor_lookback('ingested_at', this) if is_incremental() else none %}
{% set scope_start = (
    changed_session_start(margin, cursor) if is_incremental() else none
) or 0 %}
{% set short_start = (
    changed_series_bounds(history, margin, scope_start, cursor).short_start
    if is_incremental() else none
) or 0 %}
{% set bar_columns = [
    'symbol', 'date', 'session_index', 'open', 'high', 'low', 'close', 'ingested_at'
] %}

with

daily as (

    select * from {{ ref('ohlcv_daily') }}

),

{{ changed_symbol_series(
    bar_columns, history, margin, scope_start, short_start, cursor
) }}

-- TA-Lib computes in IEEE doubles; the comparisons must see the same numbers.
candle_inputs as (

    select
        symbol,
        date,
        cast(open as double) as o0,
        cast(high as double) as h0,
        cast(low as double) as l0,
        cast(close as double) as c0,
        session_index,
        ingested_at,
        first_new_session
    from series

),

-- (the frame and the pattern expressions are generated; their layout is the macros')
candles as (

    {{ candle_frame('candle_inputs', ['session_index', 'ingested_at', 'first_new_session']) }}

),

patterns as (

    select
        symbol,
        date,
        {%- for pattern in candle_pattern_names() %}
            cast({{ candle_pattern(pattern) }} as {{ signal_type() }}) as {{ pattern }},
        {%- endfor %}
        ingested_at,
        {{ built_at() }} as built_at,
        {{ storage_period('date', ref('ohlcv_daily')) }} as storage_period
    from candles
    where session_index >= first_new_session

)

select * from patterns
