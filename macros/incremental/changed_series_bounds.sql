{#-
    The constant session_index bounds of an incremental run of a per-symbol series model,
    past `scope_start` (changed_session_start), as {'short_start', 'rewrite_start'}:

    - short_start: the first bar of the symbols whose recent bars are too few, those with
      new Bronze rows but fewer than `history` bars in the `margin` sessions before their
      first new row (a recent listing, or a long gap). They are read whole, from here.
    - rewrite_start: the first row the run rewrites. Per symbol that is the
      `rewritten_bars`-th bar before its first new row (ml_features' labels look
      `horizon` bars ahead), or the first new row itself when `rewritten_bars` is 0.
      Tables joined only to the rewritten rows are read from here, not from the read start.

    Two steps, so the common day costs one query over the recent bars: only when short
    symbols exist does a second read their first session, over the symbol and
    session_index columns of all of Bronze. A symbol with fewer than `rewritten_bars`
    recent bars may rewrite older rows: rewrite_start then falls back to short_start.
    `cursor` is the model's cursor_lookback. A bound is past every session when there is
    nothing to read; the bounds are none when not executing or when the engine gives no
    answer (then no bound).
-#}
{% macro changed_series_bounds(history, margin, scope_start, cursor, rewritten_bars=0) %}
    {%- set unbounded = {'short_start': none, 'rewrite_start': none} -%}
    {%- if not execute -%}
        {{ return(unbounded) }}
    {%- endif -%}
    {%- set recent_counts -%}
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
                changed.first_new_session,
                bars.session_index,
                row_number() over (
                    partition by changed.symbol order by bars.session_index desc
                ) as bars_back
            from changed
            left join {{ ref('ohlcv_daily') }} as bars
                on
                    changed.symbol = bars.symbol
                    and bars.session_index < changed.first_new_session
                    and bars.session_index >= changed.first_new_session - {{ margin }}
                    and bars.session_index >= {{ scope_start }}
        )

        select
            symbol,
            count(session_index) as bars_before,
            coalesce(
                min(case when bars_back <= {{ rewritten_bars }} then session_index end),
                min(first_new_session)
            ) as rewrite_session
        from earlier
        group by symbol
    {%- endset -%}
    {%- set found = run_query(
        'select'
        ~ ' count(case when bars_before < ' ~ history ~ ' then 1 end),'
        ~ ' count(case when bars_before < ' ~ rewritten_bars ~ ' then 1 end),'
        ~ ' min(rewrite_session)'
        ~ ' from (' ~ recent_counts ~ ') as recent_counts'
    ) -%}
    {#- an engine may answer with no row, or a row without columns (a mock): no bound -#}
    {%- set first = found.rows[0] if found.rows | length > 0 else [] -%}
    {%- if first | length < 3 -%}
        {{ return(unbounded) }}
    {%- endif -%}
    {%- set past_every_session = 2147483647 -%}
    {%- set rewrite_start = past_every_session if first[2] is none else first[2] | int -%}
    {%- if first[0] == 0 -%}
        {{ return({'short_start': past_every_session, 'rewrite_start': rewrite_start}) }}
    {%- endif -%}
    {%- set short_start = session_bound(
        'select min(bars.session_index) from ' ~ ref('ohlcv_daily') ~ ' as bars'
        ~ ' inner join (' ~ recent_counts ~ ') as recent_counts'
        ~ ' on bars.symbol = recent_counts.symbol'
        ~ ' where recent_counts.bars_before < ' ~ history
    ) -%}
    {%- if short_start is none -%}
        {{ return(unbounded) }}
    {%- endif -%}
    {%- if first[1] > 0 -%}
        {%- set rewrite_start = [rewrite_start, short_start] | min -%}
    {%- endif -%}
    {{ return({'short_start': short_start, 'rewrite_start': rewrite_start}) }}
{% endmacro %}
