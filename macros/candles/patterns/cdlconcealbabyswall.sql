{#- Concealing Baby Swallow: two black marubozu, a black candle gapping down whose upper
    shadow reaches into the second body, then a black candle engulfing its whole range.
    +100. -#}
{% macro cdlconcealbabyswall() -%}
    case
        when {{ cdl_black(3) }} and {{ cdl_black(2) }}
            and {{ cdl_black(1) }} and {{ cdl_black(0) }}
            and {{ cdl_lower_shadow(3) }} < {{ cdl_avg('ShadowVeryShort', 3) }}
            and {{ cdl_upper_shadow(3) }} < {{ cdl_avg('ShadowVeryShort', 3) }}
            and {{ cdl_lower_shadow(2) }} < {{ cdl_avg('ShadowVeryShort', 2) }}
            and {{ cdl_upper_shadow(2) }} < {{ cdl_avg('ShadowVeryShort', 2) }}
            and {{ cdl_body_gap_down(1, 2) }}
            and {{ cdl_upper_shadow(1) }} > {{ cdl_avg('ShadowVeryShort', 1) }}
            and h1 > c2
            and h0 > h1 and l0 < l1
            and {{ cdl_past_lookback(['ShadowVeryShort'], 3) }}
            then 100
        else 0
    end
{%- endmacro %}
