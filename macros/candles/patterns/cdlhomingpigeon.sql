{#- Homing Pigeon: a long black candle, then a short black body inside it (opening lower,
    closing higher). +100. -#}
{% macro cdlhomingpigeon() -%}
    case
        when {{ cdl_colours_differ({1: 'black', 0: 'black'}) }} then 0
        when {{ cdl_real_body(1) }} > {{ cdl_avg('BodyLong', 1) }}
            and {{ cdl_real_body(0) }} <= {{ cdl_avg('BodyShort', 0) }}
            and o0 < o1
            and c0 > c1
            and {{ cdl_past_lookback(['BodyShort', 'BodyLong'], 1) }}
            then 100
        else 0
    end
{%- endmacro %}
