-- noqa: disable=LT02
-- (sqlfluff cannot indent the CTEs this macro renders for both branches)
{#-
    The bars an incremental model of per-symbol series recomputes from, as the CTEs
    `series` (`bar_columns` plus first_new_session: rows at or after it are rewritten)
    and, on incremental runs, `changed` and `changed_bars`. The model defines `daily`
    (Bronze) before calling it.

    Per symbol with Bronze rows newer than `cursor` (the model's cursor_lookback): its bars from `margin`
    sessions before its first new row, or the whole symbol when fewer than `history`
    bars precede that row there (a long gap, or a recent listing). Bronze is read once,
    from the lower of the constant bounds `scope_start` (changed_session_start(margin))
    and `short_start` (changed_series_bounds(history, margin, scope_start)), so the engine
    skips older files and row groups. A full build reads every bar (first_new_session -1).
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
-- referenced more than once, which would copy all of history on every run. One read
-- serves both kinds of symbol (a second would read the same files again).
changed_bars as (

    select
        {%- for column in bar_columns %}
            bars.{{ column }},
        {%- endfor %}
        changed.first_new_session,
        count(
            case
                when
                    bars.session_index < changed.first_new_session
                    and bars.session_index >= changed.first_new_session - {{ margin }}
                    then 1
            end
        ) over (partition by bars.symbol) as recent_bars_before
    from {{ ref('ohlcv_daily') }} as bars
    inner join changed on bars.symbol = changed.symbol
    -- a constant lower bound lets the engine skip old row groups before joining
    where bars.session_index >= {{ [scope_start, short_start] | min }}  -- noqa: LT02

),

{% endif %}

series as (

    {%- if is_incremental() %}

    select
        {%- for column in bar_columns %}
            {{ column }},
        {%- endfor %}
        first_new_session
    from changed_bars
    where
        session_index >= first_new_session - {{ margin }}
        -- too few recent bars: the symbol whole (its first bar is at or after short_start)
        or recent_bars_before < {{ history }}

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
