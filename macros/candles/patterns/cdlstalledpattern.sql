{#- Stalled Pattern: two long white candles with rising closes, the second opening near
    the first close with almost no upper shadow, then a short white candle riding on the
    second's shoulder (its open near the second close less its own body). -100. -#}
{% macro cdlstalledpattern() -%}
    case
        when {{ cdl_colours_differ({2: 'white', 1: 'white', 0: 'white'}) }} then 0
        when c0 > c1 and c1 > c2
            and {{ cdl_real_body(2) }} > {{ cdl_avg('BodyLong', 2) }}
            and {{ cdl_real_body(1) }} > {{ cdl_avg('BodyLong', 1) }}
            and {{ cdl_upper_shadow(1) }} < {{ cdl_avg('ShadowVeryShort', 1) }}
            and o1 > o2
            and o1 <= c2 + {{ cdl_avg('Near', 2) }}
            and {{ cdl_real_body(0) }} < {{ cdl_avg('BodyShort', 0) }}
            and o0 >= c1 - {{ cdl_real_body(0) }} - {{ cdl_avg('Near', 1) }}
            and {{
                cdl_past_lookback(['BodyLong', 'BodyShort', 'ShadowVeryShort', 'Near'], 2)
            }}
            then -100
        else 0
    end
{%- endmacro %}
