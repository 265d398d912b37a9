{#- Three Advancing White Soldiers: three white candles with very short upper shadows,
    each opening within or near the previous body and closing higher, without the bodies
    shrinking far, the last one not short. +100. -#}
{% macro cdl3whitesoldiers() -%}
    case
        when {{ cdl_colours_differ({2: 'white', 1: 'white', 0: 'white'}) }} then 0
        when {{ cdl_upper_shadow(2) }} < {{ cdl_avg('ShadowVeryShort', 2) }}
            and {{ cdl_upper_shadow(1) }} < {{ cdl_avg('ShadowVeryShort', 1) }}
            and {{ cdl_upper_shadow(0) }} < {{ cdl_avg('ShadowVeryShort', 0) }}
            and c0 > c1 and c1 > c2
            and o1 > o2 and o1 <= c2 + {{ cdl_avg('Near', 2) }}
            and o0 > o1 and o0 <= c1 + {{ cdl_avg('Near', 1) }}
            and {{ cdl_real_body(1) }} > {{ cdl_real_body(2) }} - {{ cdl_avg('Far', 2) }}
            and {{ cdl_real_body(0) }} > {{ cdl_real_body(1) }} - {{ cdl_avg('Far', 1) }}
            and {{ cdl_real_body(0) }} > {{ cdl_avg('BodyShort', 0) }}
            and {{ cdl_past_lookback(
                ['ShadowVeryShort', 'BodyShort', 'Far', 'Near'], 2
            ) }}
            then 100
        else 0
    end
{%- endmacro %}
