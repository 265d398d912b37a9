{#- Piercing: a long black candle, then a long white candle opening below its low and
    closing inside its body, above its midpoint (hard-coded 0.5). +100. -#}
{% macro cdlpiercing() -%}
    case
        when {{ cdl_colours_differ({1: 'black', 0: 'white'}) }} then 0
        when {{ cdl_real_body(1) }} > {{ cdl_avg('BodyLong', 1) }}
            and {{ cdl_real_body(0) }} > {{ cdl_avg('BodyLong', 0) }}
            and o0 < l1
            and c0 < o1
            and c0 > c1 + {{ cdl_real_body(1) }} * {{ cdl_double(0.5) }}
            and {{ cdl_past_lookback(['BodyLong'], 1) }}
            then 100
        else 0
    end
{%- endmacro %}
