{#- Three Black Crows: after a white candle, three black candles with very short lower
    shadows, each opening inside the previous body and closing lower. -100. -#}
{% macro cdl3blackcrows() -%}
    case
        when {{ cdl_colours_differ({3: 'white', 2: 'black', 1: 'black', 0: 'black'}) }} then 0
        when {{ cdl_lower_shadow(2) }} < {{ cdl_avg('ShadowVeryShort', 2) }}
            and {{ cdl_lower_shadow(1) }} < {{ cdl_avg('ShadowVeryShort', 1) }}
            and {{ cdl_lower_shadow(0) }} < {{ cdl_avg('ShadowVeryShort', 0) }}
            and o1 < o2 and o1 > c2
            and o0 < o1 and o0 > c1
            and h3 > c2
            and c2 > c1 and c1 > c0
            and {{ cdl_past_lookback(['ShadowVeryShort'], 3) }}
            then -100
        else 0
    end
{%- endmacro %}
