{#-
    One row per (symbol, date) once the symbol has `warm_up` earlier bars, with features
    known at that session's close (only the bar itself and earlier ones) and the label:
    whether the close `horizon` bars later is higher. Rows are counted per symbol, as
    everywhere in Silver: a missing session is simply not in the series.
-#}
{% set horizon = var('ml_label_horizon') %}
{% set return_windows = [1, 5, 21, 63] %}
{% set volatility_windows = [5, 21, 63] %}
{% set volume_window = 21 %}
{% set warm_up = 63 %}
{% set bar_sizes = [3, 5, 8, 13, 21, 34] %}
{% set series = 'partition by symbol order by date' %}

with

daily as (

    select * from {{ ref('ohlcv_daily') }}

),

patterns as (

    select * from {{ ref('candlestick_patterns') }}

),

{% for n in bar_sizes %}
    bars_{{ n }}d as (

        select * from {{ ref('ohlcv_' ~ n ~ 'd') }}

    ),

{% endfor %}

daily_returns as (

    select
        symbol,
        date,
        session_index,
        close,
        ln(cast(volume as double) + 1) as log_volume,
        (high - low) / close as high_low_range,
        ln(close / lag(close) over ({{ series }})) as log_return,
        row_number() over ({{ series }}) - 1 as bar_number,
        lead(close, {{ horizon }}) over ({{ series }}) as close_ahead,
        lead(date, {{ horizon }}) over ({{ series }}) as label_end_date
    from daily

),

rolling as (

    select
        symbol,
        date,
        session_index,
        bar_number,
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
            coalesce(ln(bars_{{ n }}d.close / bars_{{ n }}d.open), 0)
                as previous_bar_return_{{ n }}d,
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
        end as label_up
    from rolling
    inner join patterns
        on rolling.symbol = patterns.symbol and rolling.date = patterns.date
    -- the bar just before the session's own bar ended before the session began
    {%- for n in bar_sizes %}
        left join bars_{{ n }}d
            on
                rolling.symbol = bars_{{ n }}d.symbol
                and bars_{{ n }}d.bucket_number
                = {{ integer_divide('rolling.session_index', n) }} - 1
    {%- endfor %}
    where rolling.bar_number >= {{ warm_up }}

)

select * from features
