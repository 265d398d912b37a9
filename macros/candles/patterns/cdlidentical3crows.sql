{#- Identical Three Crows: three black candles with very short lower shadows, each
    opening at (within Equal of) the previous close and closing lower. -100. -#}
{% macro cdlidentical3crows() -%}
    case
        when {{ cdl_colours_differ({2: 'black', 1: 'black', 0: 'black'}) }} then 0
        when {{ cdl_lower_shadow(2) }} < {{ cdl_avg('ShadowVeryShort', 2) }}
            and {{ cdl_lower_shadow(1) }} < {{ cdl_avg('ShadowVeryShort', 1) }}
            and {{ cdl_lower_shadow(0) }} < {{ cdl_avg('ShadowVeryShort', 0) }}
            and c2 > c1 and c1 > c0
            and o1 <= c2 + {{ cdl_avg('Equal', 2) }}
            and o1 >= c2 - {{ cdl_avg('Equal', 2) }}
            and o0 <= c1 + {{ cdl_avg('Equal', 1) }}
            and o0 >= c1 - {{ cdl_avg('Equal', 1) }}
            and {{ cdl_past_lookback(['ShadowVeryShort', 'Equal'], 2) }}
            then -100
        else 0
    end
{%- endmacro %}
