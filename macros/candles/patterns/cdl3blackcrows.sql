{#- Three Black Crows: after a white candle, three black candles with very short lower
    shadows, each opening inside the previous body and closing lower. -100. -#}
{% macro cdl3blackcrows() -%}
    case
        when bar_number < {{ cdl_lookback(['ShadowVeryShort'], 3) }} then 0
        when {{ cdl_white(3) }}
            and {{ cdl_black(2) }}
            and {{ cdl_lower_shadow(2) }} < {{ cdl_avg('ShadowVeryShort', 2) }}
            and {{ cdl_black(1) }}
            and {{ cdl_lower_shadow(1) }} < {{ cdl_avg('ShadowVeryShort', 1) }}
            and {{ cdl_black(0) }}
            and {{ cdl_lower_shadow(0) }} < {{ cdl_avg('ShadowVeryShort', 0) }}
            and o1 < o2 and o1 > c2
            and o0 < o1 and o0 > c1
            and h3 > c2
            and c2 > c1 and c1 > c0
            then -100
        else 0
    end
{%- endmacro %}
