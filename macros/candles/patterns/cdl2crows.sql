{#- Two Crows: a long white candle, a black candle whose body gaps up, then a black candle
    opening inside that body and closing inside the white one. -100. -#}
{% macro cdl2crows() -%}
    case
        when {{ cdl_colours_differ({2: 'white', 1: 'black', 0: 'black'}) }} then 0
        when {{ cdl_real_body(2) }} > {{ cdl_avg('BodyLong', 2) }}
            and {{ cdl_body_gap_up(1, 2) }}
            and o0 < o1 and o0 > c1
            and c0 > o2 and c0 < c2
            and {{ cdl_past_lookback(['BodyLong'], 2) }}
            then -100
        else 0
    end
{%- endmacro %}
