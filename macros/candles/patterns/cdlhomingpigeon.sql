{#- Homing Pigeon: a long black candle, then a short black body inside it (opening lower,
    closing higher). +100. -#}
{% macro cdlhomingpigeon() -%}
    case
        when bar_number < {{ cdl_lookback(['BodyShort', 'BodyLong'], 1) }} then 0
        when {{ cdl_black(1) }}
            and {{ cdl_black(0) }}
            and {{ cdl_real_body(1) }} > {{ cdl_avg('BodyLong', 1) }}
            and {{ cdl_real_body(0) }} <= {{ cdl_avg('BodyShort', 0) }}
            and o0 < o1
            and c0 > c1
            then 100
        else 0
    end
{%- endmacro %}
