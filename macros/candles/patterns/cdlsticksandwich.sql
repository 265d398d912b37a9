{#- Stick Sandwich: black, white (its low above the first close), black closing at the
    first close (within Equal). +100. -#}
{% macro cdlsticksandwich() -%}
    case
        when bar_number < {{ cdl_lookback(['Equal'], 2) }} then 0
        when {{ cdl_black(2) }}
            and {{ cdl_white(1) }}
            and {{ cdl_black(0) }}
            and l1 > c2
            and c0 <= c2 + {{ cdl_avg('Equal', 2) }}
            and c0 >= c2 - {{ cdl_avg('Equal', 2) }}
            then 100
        else 0
    end
{%- endmacro %}
