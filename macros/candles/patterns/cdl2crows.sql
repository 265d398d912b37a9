{#- Two Crows: a long white candle, a black candle whose body gaps up, then a black candle
    opening inside that body and closing inside the white one. -100. -#}
{% macro cdl2crows() -%}
    case
        when bar_number < {{ cdl_lookback(['BodyLong'], 2) }} then 0
        when {{ cdl_white(2) }}
            and {{ cdl_real_body(2) }} > {{ cdl_avg('BodyLong', 2) }}
            and {{ cdl_black(1) }}
            and {{ cdl_body_gap_up(1, 2) }}
            and {{ cdl_black(0) }}
            and o0 < o1 and o0 > c1
            and c0 > o2 and c0 < c2
            then -100
        else 0
    end
{%- endmacro %}
