{#-
    The first session_index an incremental run of a per-symbol series model reads:
    `margin` sessions before the earliest Bronze row newer than `cursor` (the model's
    cursor_lookback, read once per model).

    Computed before the model runs and written into its SQL as a constant, so the engine
    skips older row groups of Bronze by their statistics. Returns a bound past every
    session when nothing is new, none when there is no answer (then no bound).
-#}
{% macro changed_session_start(margin, cursor) %}
    {%- set query -%}
        select min(session_index) - {{ margin }}
        from {{ ref('ohlcv_daily') }}
        where ingested_at > {{ cursor }}
    {%- endset -%}
    {{ return(session_bound(query)) }}
{% endmacro %}
