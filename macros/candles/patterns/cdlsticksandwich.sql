{#- Stick Sandwich: black, white (its low above the first close), black closing at the
    first close (within Equal). +100. -#}
{% macro cdlsticksandwich() -%}
    case
        when {{ cdl_colours_differ({2: 'black', 1: 'white', 0: 'black'}) }} then 0
        when l1 > c2
            and c0 <= c2 + {{ cdl_avg('Equal', 2) }}
            and c0 >= c2 - {{ cdl_avg('Equal', 2) }}
            and {{ cdl_past_lookback(['Equal'], 2) }}
            then 100
        else 0
    end
{%- endmacro %}
