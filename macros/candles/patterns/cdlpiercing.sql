{#- Piercing: a long black candle, then a long white candle opening below its low and
    closing inside its body, above its midpoint (hard-coded 0.5). +100. -#}
{% macro cdlpiercing() -%}
    case
        when bar_number < {{ cdl_lookback(['BodyLong'], 1) }} then 0
        when {{ cdl_black(1) }}
            and {{ cdl_real_body(1) }} > {{ cdl_avg('BodyLong', 1) }}
            and {{ cdl_white(0) }}
            and {{ cdl_real_body(0) }} > {{ cdl_avg('BodyLong', 0) }}
            and o0 < l1
            and c0 < o1
            and c0 > c1 + {{ cdl_real_body(1) }} * {{ cdl_double(0.5) }}
            then 100
        else 0
    end
{%- endmacro %}
