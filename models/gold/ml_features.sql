{{ config(
    materialized='incremental',
    unique_key=['symbol', 'date'],
    incremental_strategy=upsert_strategy(),
    partitioned_by=storage_partitioning(),
    properties=storage_partitioning_properties(),
    on_schema_change='fail',
) }}

{#-
    One row per (symbol, date) once the symbol has `warm_up` earlier bars, with features
    known at that session's close (only the bar itself and earlier ones) and the label:
    whether the close `horizon` bars later is higher. Rows are counted per symbol, as
    everywhere in Silver: a missing session is simply not in the series.

    Incremental: a new or corrected bar changes the labels of the `horizon` bars before
    it and the features of the bars after it. Per symbol with new Bronze rows, the run
    rewrites every row from `horizon` bars before its first new bar to its last, reading
    the `history` bars before those for the look-backs (the symbol whole when a margin of
    sessions holds fewer, as in candlestick_patterns). The patterns and the resampled bars
    are joined to the rewritten rows only: they are read from the first of those.
-#}
-- depends_on: {{ ref('trading_calendar') }}
{% set horizon = var('ml_label_horizon') %}
{% set return_windows = [1, 5, 21, 63] %}
{% set volatility_windows = [5, 21, 63] %}
{% set volume_window = 21 %}
{% set warm_up = 63 %}
{% set history = warm_up + (horizon | int) + 1 %}
{#- a symbol missing more than a month of sessions before its first new bar is read whole -#}
{% set margin = history + 21 %}
{#- the cursor is read once: each read is a query of its own -#}
{% set cursor = cursor_lookback('ingested_at', this) if is_incremental() else none %}
{% set scope_start = (
    changed_session_start(margin, cursor) if is_incremental() else none
) or 0 %}
{% set bounds = changed_series_bounds(
    history, margin, scope_start, cursor, rewritten_bars=horizon | int
) if is_incremental() else {} %}
{% set short_start = bounds.short_start or 0 %}
{#- the patterns and bars joined to the rewritten rows are read from the first of them -#}
{% set rewrite_start = bounds.rewrite_start or 0 %}
{% set rewrite_from = earliest_date(
    ref('trading_calendar'), 'session_date', 'session_index >= ' ~ rewrite_start
) if rewrite_start else "date '1900-01-01'" %}
{% set bar_sizes = resample_sizes() %}
{% set series = 'partition by symbol order by date' %}
{% set bar_columns = [
    'symbol', 'date', 'session_index', 'high', 'low', 'close', 'volume', 'ingested_at'
] %}

with

daily as (

    select * from {{ ref('ohlcv_daily') }}

),

patterns as (

    select * from {{ ref('candlestick_patterns') }}

),

{#- one CTE per bar size, each read once: DuckDB copies a CTE read more than once -#}
{% for n in bar_sizes %}
    bars_{{ n }}d as (

        select * from {{ ref('int_bar_returns') }}
        where bar_sessions = {{ n }}

    ),

{% endfor %}

{{ changed_symbol_series(
    bar_columns, history, margin, scope_start, short_start, cursor
) }}

daily_returns as (

    select
        symbol,
        date,
        session_index,
        close,
        ln(cast(volume as double) + 1) as log_volume,
        (high - low) / close as high_low_range,
        ln(close / lag(close) over ({{ series }})) as log_return,
        lead(close, {{ horizon }}) over ({{ series }}) as close_ahead,
        lead(date, {{ horizon }}) over ({{ series }}) as label_end_date,
        -- the row's label reaches a new bar (or is still pending): it is rewritten
        coalesce(lead(session_index, {{ horizon }}) over ({{ series }}), 2147483647)
        >= first_new_session as is_rewritten,
        -- `warm_up` earlier bars; within the bars read, as on the whole series
        lag(close, {{ warm_up }}) over ({{ series }}) is not null as is_warmed_up,
        ingested_at
    from series

),

rolling as (

    select
        symbol,
        date,
        session_index,
        is_rewritten,
        is_warmed_up,
        ingested_at,
        high_low_range,
        {%- for k in return_windows %}
            ln(close / lag(close, {{ k }}) over ({{ series }})) as return_{{ k }}d,
        {%- endfor %}
        {%- for k in volatility_windows %}
            stddev_samp(log_return) over (
                {{ series }} rows between {{ k - 1 }} preceding and current row
            ) as volatility_{{ k }}d,
        {%- endfor %}
        avg(log_volume) over (
            {{ series }} rows between {{ volume_window }} preceding and 1 preceding
        ) as volume_mean,
        stddev_samp(log_volume) over (
            {{ series }} rows between {{ volume_window }} preceding and 1 preceding
        ) as volume_std,
        log_volume,
        close_ahead / close - 1 as forward_return,
        label_end_date
    from daily_returns

),

features as (

    select
        rolling.symbol,
        rolling.date,
        rolling.session_index,
        {%- for k in return_windows %}
            rolling.return_{{ k }}d,
        {%- endfor %}
        {%- for k in volatility_windows %}
            rolling.volatility_{{ k }}d,
        {%- endfor %}
        rolling.high_low_range,
        -- a constant volume has no spread: today's volume is then 0 deviations off
        coalesce(
            (rolling.log_volume - rolling.volume_mean) / nullif(rolling.volume_std, 0), 0
        ) as volume_zscore_{{ volume_window }}d,
        {%- for n in bar_sizes %}
            rolling.session_index - {{ n }} * {{ integer_divide('rolling.session_index', n) }}
                as session_in_bar_{{ n }}d,
            coalesce(bars_{{ n }}d.bar_return, 0) as previous_bar_return_{{ n }}d,
        {%- endfor %}
        {%- for pattern in candle_pattern_names() %}
            patterns.{{ pattern }},
        {%- endfor %}
        {{ candle_signal_count('patterns', '> 0') }} as bullish_patterns,
        {{ candle_signal_count('patterns', '< 0') }} as bearish_patterns,
        rolling.forward_return,
        rolling.label_end_date,
        case
            when rolling.forward_return > 0 then 1
            when rolling.forward_return <= 0 then 0
        end as label_up,
        -- the horizon's one owner is the var: training reads it from here
        cast({{ horizon }} as integer) as label_horizon,
        rolling.ingested_at,
        {{ built_at() }} as built_at,
        {{ storage_period('rolling.date', ref('ohlcv_daily')) }} as storage_period
    from rolling
    inner join patterns
        on
            rolling.symbol = patterns.symbol
            and rolling.date = patterns.date
            -- constant bounds (the rewritten rows' first session) skip older files
            and patterns.date >= {{ rewrite_from }}
    -- the bar just before the session's own bar ended before the session began
    {%- for n in bar_sizes %}
        left join bars_{{ n }}d
            on
                rolling.symbol = bars_{{ n }}d.symbol
                and bars_{{ n }}d.bucket_number
                = {{ integer_divide('rolling.session_index', n) }} - 1
                and bars_{{ n }}d.bucket_number >= {{ rewrite_start // n - 1 }}
    {%- endfor %}
    where rolling.is_warmed_up and rolling.is_rewritten

)

select * from features
