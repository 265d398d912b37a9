-- noqa: disable=LT02
-- (sqlfluff cannot indent the CTEs this macro renders for both branches)
{#-
    The bars an incremental model of per-symbol series recomputes from, as the CTEs
    `series` (`bar_columns` plus first_new_session: rows at or after it are rewritten)
    and, on incremental runs, `changed`, `recent` and `short_history`. The model defines
    `daily` (Bronze) before calling it.

    Per symbol with Bronze rows newer than `cursor` (the model's cursor_lookback): its bars from `margin`
    sessions before its first new row, or the whole symbol when fewer than `history`
    bars precede that row there (a long gap, or a recent listing). `scope_start` and
    `short_start` are the constant lower bounds of the two reads, from
    changed_session_start(margin) and short_history_start(history, margin, scope_start),
    so the engine skips older files and row groups in both. A full build reads every bar
    (first_new_session -1).
-#}
{% macro changed_symbol_series(bar_columns, history, margin, scope_start, short_start, cursor) %}
-- noqa: disable=LT02
-- (sqlfluff mis-indents the rendered constant bounds of the incremental branch)
{% if is_incremental() %}

changed as (

    select
        symbol,
        min(session_index) as first_new_session
    from daily
    where
        ingested_at > {{ cursor }}
        and session_index >= {{ scope_start + margin }}  -- noqa: LT02
    group by symbol

),

-- Bronze is read directly below, not through `daily`: DuckDB materialises a CTE that is
-- referenced more than once, which would copy all of history on every run.
recent as (

    select
        {%- for column in bar_columns %}
            bars.{{ column }},
        {%- endfor %}
        changed.first_new_session
    from {{ ref('ohlcv_daily') }} as bars
    inner join changed on bars.symbol = changed.symbol
    where
        bars.session_index >= changed.first_new_session - {{ margin }}
        -- a constant lower bound lets the engine skip old row groups before joining
        and bars.session_index >= {{ scope_start }}  -- noqa: LT02

),

short_history as (

    select symbol
    from recent
    group by symbol
    having count(case when session_index < first_new_session then 1 end) < {{ history }}

),

{% endif %}

series as (

    {%- if is_incremental() %}

    select
        {%- for column in bar_columns %}
            {{ column }},
        {%- endfor %}
        first_new_session
    from recent
    where symbol not in (select short_history.symbol from short_history)

    union all

    select
        {%- for column in bar_columns %}
            bars.{{ column }},
        {%- endfor %}
        changed.first_new_session
    from {{ ref('ohlcv_daily') }} as bars
    inner join changed on bars.symbol = changed.symbol
    where
        bars.symbol in (select short_history.symbol from short_history)
        -- the first bar of those symbols, a constant: past every session when none
        and bars.session_index >= {{ short_start }}  -- noqa: LT02

    {%- else %}

    select
        {%- for column in bar_columns %}
            {{ column }},
        {%- endfor %}
        -1 as first_new_session
    from daily

    {%- endif %}

),
-- noqa: enable=LT02
{%- endmacro %}
