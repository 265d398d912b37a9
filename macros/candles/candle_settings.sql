{#-
    TA-Lib's candle settings (TA_RestoreCandleDefaultSettings): which range a setting
    averages, over how many previous candles, and the factor. A period of 0 means the
    candle's own range. These numbers decide both the thresholds and the lookbacks.
-#}
{% macro candle_settings() -%}
    {{ return({
        'BodyLong': {
            'column': 'body_long',
            'range': 'real_body',
            'period': 10,
            'factor': 1.0,
        },
        'BodyVeryLong': {
            'column': 'body_very_long',
            'range': 'real_body',
            'period': 10,
            'factor': 3.0,
        },
        'BodyShort': {
            'column': 'body_short',
            'range': 'real_body',
            'period': 10,
            'factor': 1.0,
        },
        'BodyDoji': {
            'column': 'body_doji',
            'range': 'high_low',
            'period': 10,
            'factor': 0.1,
        },
        'ShadowLong': {
            'column': 'shadow_long',
            'range': 'real_body',
            'period': 0,
            'factor': 1.0,
        },
        'ShadowVeryLong': {
            'column': 'shadow_very_long',
            'range': 'real_body',
            'period': 0,
            'factor': 2.0,
        },
        'ShadowShort': {
            'column': 'shadow_short',
            'range': 'shadows',
            'period': 10,
            'factor': 1.0,
        },
        'ShadowVeryShort': {
            'column': 'shadow_very_short',
            'range': 'high_low',
            'period': 10,
            'factor': 0.1,
        },
        'Near': {
            'column': 'near',
            'range': 'high_low',
            'period': 5,
            'factor': 0.2,
        },
        'Far': {
            'column': 'far',
            'range': 'high_low',
            'period': 5,
            'factor': 0.6,
        },
        'Equal': {
            'column': 'equal',
            'range': 'high_low',
            'period': 5,
            'factor': 0.05,
        },
    }) }}
{%- endmacro %}


{#-
    TA-Lib's lookback of a pattern: the longest averaging period among the settings it
    uses plus the farthest candle it looks back to. Rows with fewer earlier bars than this
    are 0, as TA-Lib returns them, even where the pattern could be evaluated.
-#}
{% macro cdl_lookback(settings, offset) -%}
    {%- set periods = [0] -%}
    {%- for name in settings -%}
        {%- do periods.append(candle_settings()[name]['period']) -%}
    {%- endfor -%}
    {{ return(periods | max + offset) }}
{%- endmacro %}


{#-
    The row is past the lookback: TA-Lib returns 0 before it. Written as a pattern's last
    condition, so it is evaluated only on the rows that match the rest.
-#}
{% macro cdl_past_lookback(settings, offset) -%}
    bar_number >= {{ cdl_lookback(settings, offset) }}
{%- endmacro %}


{#- The column holding a setting's average for candle `k` (see candle_frame). -#}
{% macro cdl_avg(setting, k) -%}
    {{ candle_settings()[setting].column }}_{{ k }}
{%- endmacro %}


{#-
    The average of a setting for the candle `k` bars back (TA_CANDLEAVERAGE), in TA-Lib's
    floating-point order: factor * (sum / period) / divisor, the sum over the `period`
    candles before that candle (the candle itself excluded); with a period of 0, the
    candle's own range. A factor of 1 and a divisor of 1 are exact no-ops, left out.
-#}
{% macro cdl_avg_expression(setting, k) -%}
    {%- set s = candle_settings()[setting] -%}
    {%- if s.period > 0 -%}
        {%- set value = '(' ~ cdl_range_sum(s.range, s.period, k) ~ ' / ' ~ s.period ~ ')' -%}
    {%- else -%}
        {%- set value = s.range ~ '_' ~ k -%}
    {%- endif -%}
    {%- if s.factor != 1.0 -%}
        {%- set value = cdl_double(s.factor) ~ ' * ' ~ value -%}
    {%- endif -%}
    {%- if s.range == 'shadows' -%}
        {%- set value = '(' ~ value ~ ') / 2' -%}
    {%- endif -%}
    {{ value }}
{%- endmacro %}


{#- A numeric literal as a double on both engines (a bare 0.1 is a DECIMAL on both). -#}
{% macro cdl_double(value) -%}
    cast({{ value }} as double)
{%- endmacro %}
