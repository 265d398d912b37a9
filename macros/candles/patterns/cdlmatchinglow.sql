{#- Matching Low: two black candles closing equal (within Equal of each other). +100. -#}
{% macro cdlmatchinglow() -%}
    case
        when bar_number < {{ cdl_lookback(['Equal'], 1) }} then 0
        when {{ cdl_black(1) }}
            and {{ cdl_black(0) }}
            and c0 <= c1 + {{ cdl_avg('Equal', 1) }}
            and c0 >= c1 - {{ cdl_avg('Equal', 1) }}
            then 100
        else 0
    end
{%- endmacro %}
