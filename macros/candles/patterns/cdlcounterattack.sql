{#- Counterattack: two long candles of opposite colours closing at the same level (within
    Equal of the first close). Colour of the second candle: +100 / -100. -#}
{% macro cdlcounterattack() -%}
    case
        when {{ cdl_color(1) }} = -{{ cdl_color(0) }}
            and {{ cdl_real_body(1) }} > {{ cdl_avg('BodyLong', 1) }}
            and {{ cdl_real_body(0) }} > {{ cdl_avg('BodyLong', 0) }}
            and c0 <= c1 + {{ cdl_avg('Equal', 1) }}
            and c0 >= c1 - {{ cdl_avg('Equal', 1) }}
            and {{ cdl_past_lookback(['Equal', 'BodyLong'], 1) }}
            then {{ cdl_color(0) }} * 100
        else 0
    end
{%- endmacro %}
