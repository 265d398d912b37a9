{#-
    The first session_index an incremental candlestick run reads: `margin` sessions
    before the earliest Bronze row newer than the cursor.

    Computed before the model runs and written into its SQL as a constant, so the engine
    skips older row groups of Bronze by their statistics. Returns a bound past every
    session when nothing is new, none when there is no answer (then no bound).
-#}
{% macro candle_scope_start(margin) %}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set query -%}
        select min(session_index) - {{ margin }}
        from {{ ref('ohlcv_daily') }}
        where ingested_at > {{ cursor_lookback('ingested_at', this) }}
    {%- endset -%}
    {%- set result = run_query(query) -%}
    {%- set first = result.rows[0] if result.rows | length > 0 else [] -%}
    {%- if first | length == 0 -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(2147483647 if first[0] is none else first[0] | int) }}
{% endmacro %}
