{#- Morning Star: a long black candle, a short body gapping down, then a white candle
    (not short) closing above the first close by 30% of its body. +100. -#}
{% macro cdlmorningstar() -%}
    case
        when bar_number < {{ cdl_lookback(['BodyShort', 'BodyLong'], 2) }} then 0
        when {{ cdl_real_body(2) }} > {{ cdl_avg('BodyLong', 2) }}
            and {{ cdl_black(2) }}
            and {{ cdl_real_body(1) }} <= {{ cdl_avg('BodyShort', 1) }}
            and {{ cdl_body_gap_down(1, 2) }}
            and {{ cdl_real_body(0) }} > {{ cdl_avg('BodyShort', 0) }}
            and {{ cdl_white(0) }}
            and c0 > c2 + {{ cdl_real_body(2) }} * {{ cdl_double(0.3) }}
            then 100
        else 0
    end
{%- endmacro %}
