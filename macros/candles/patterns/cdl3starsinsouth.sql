{#- Three Stars In The South: three black candles, a long one with a long lower shadow,
    a smaller one with a higher low that still has a lower shadow, then a small marubozu
    inside the second candle's range. +100. -#}
{% macro cdl3starsinsouth() -%}
    case
        when {{ cdl_black(2) }} and {{ cdl_black(1) }} and {{ cdl_black(0) }}
            and {{ cdl_real_body(2) }} > {{ cdl_avg('BodyLong', 2) }}
            and {{ cdl_lower_shadow(2) }} > {{ cdl_avg('ShadowLong', 2) }}
            and {{ cdl_real_body(1) }} < {{ cdl_real_body(2) }}
            and o1 > c2 and o1 <= h2
            and l1 < c2 and l1 >= l2
            and {{ cdl_lower_shadow(1) }} > {{ cdl_avg('ShadowVeryShort', 1) }}
            and {{ cdl_real_body(0) }} < {{ cdl_avg('BodyShort', 0) }}
            and {{ cdl_lower_shadow(0) }} < {{ cdl_avg('ShadowVeryShort', 0) }}
            and {{ cdl_upper_shadow(0) }} < {{ cdl_avg('ShadowVeryShort', 0) }}
            and l0 > l1 and h0 < h1
            and {{ cdl_past_lookback(
                ['ShadowVeryShort', 'ShadowLong', 'BodyLong', 'BodyShort'], 2
            ) }}
            then 100
        else 0
    end
{%- endmacro %}
