{#- Matching Low: two black candles closing equal (within Equal of each other). +100. -#}
{% macro cdlmatchinglow() -%}
    case
        when {{ cdl_colours_differ({1: 'black', 0: 'black'}) }} then 0
        when c0 <= c1 + {{ cdl_avg('Equal', 1) }}
            and c0 >= c1 - {{ cdl_avg('Equal', 1) }}
            and {{ cdl_past_lookback(['Equal'], 1) }}
            then 100
        else 0
    end
{%- endmacro %}
