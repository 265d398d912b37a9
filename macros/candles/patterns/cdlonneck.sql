{#- On-Neck: a long black candle, then a white candle opening below its low and closing
    at its low (within Equal). -100. -#}
{% macro cdlonneck() -%}
    case
        when {{ cdl_colours_differ({1: 'black', 0: 'white'}) }} then 0
        when {{ cdl_real_body(1) }} > {{ cdl_avg('BodyLong', 1) }}
            and o0 < l1
            and c0 <= l1 + {{ cdl_avg('Equal', 1) }}
            and c0 >= l1 - {{ cdl_avg('Equal', 1) }}
            and {{ cdl_past_lookback(['Equal', 'BodyLong'], 1) }}
            then -100
        else 0
    end
{%- endmacro %}
