{#- Ladder Bottom: three black candles with falling opens and closes, a fourth black
    candle with an upper shadow, then a white candle opening above its open and closing
    above its high. +100. -#}
{% macro cdlladderbottom() -%}
    case
        when {{ cdl_colours_differ({1: 'black', 0: 'white'}) }} then 0
        when {{ cdl_black(4) }} and {{ cdl_black(3) }} and {{ cdl_black(2) }}
            and o4 > o3 and o3 > o2
            and c4 > c3 and c3 > c2
            and {{ cdl_upper_shadow(1) }} > {{ cdl_avg('ShadowVeryShort', 1) }}
            and o0 > o1
            and c0 > h1
            and {{ cdl_past_lookback(['ShadowVeryShort'], 4) }}
            then 100
        else 0
    end
{%- endmacro %}
