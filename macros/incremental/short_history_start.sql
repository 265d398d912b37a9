{#-
    The first session_index an incremental run must read for the symbols whose recent
    bars are too few: those with new Bronze rows but fewer than `history` bars in the
    `margin` sessions before their first new row (a recent listing, or a long gap). They
    are read whole, from this bound; the others from `scope_start` (changed_session_start).

    Two steps, so the common day costs nothing: the first reads only the recent bars (from
    `scope_start`) to find such symbols; only when there are some does the second read
    their first session, over the symbol and session_index columns of all of Bronze.
    `cursor` is the model's cursor_lookback. Returns a bound past every session when there
    are none, none when not executing or when the engine gives no answer.
-#}
{% macro short_history_start(history, margin, scope_start, cursor) %}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set short_symbols -%}
        with

        changed as (
            select
                symbol,
                min(session_index) as first_new_session
            from {{ ref('ohlcv_daily') }}
            where
                ingested_at > {{ cursor }}
                and session_index >= {{ scope_start + margin }}
            group by symbol
        ),

        earlier as (
            select
                changed.symbol,
                count(bars.session_index) as bars_before
            from changed
            left join {{ ref('ohlcv_daily') }} as bars
                on
                    changed.symbol = bars.symbol
                    and bars.session_index < changed.first_new_session
                    and bars.session_index >= changed.first_new_session - {{ margin }}
                    and bars.session_index >= {{ scope_start }}
            group by changed.symbol
        )

        select symbol from earlier where bars_before < {{ history }}
    {%- endset -%}
    {%- set found = run_query('select count(*) from (' ~ short_symbols ~ ') as short_symbols') -%}
    {#- an engine may answer with no row, or a row without columns (a mock): no bound -#}
    {%- set first = found.rows[0] if found.rows | length > 0 else [] -%}
    {%- if first | length == 0 -%}
        {{ return(none) }}
    {%- elif first[0] == 0 -%}
        {{ return(2147483647) }}
    {%- endif -%}
    {%- set query -%}
        select min(bars.session_index)
        from {{ ref('ohlcv_daily') }} as bars
        inner join ({{ short_symbols }}) as short_symbols on bars.symbol = short_symbols.symbol
    {%- endset -%}
    {{ return(session_bound(query)) }}
{% endmacro %}
