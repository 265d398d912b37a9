{#- Upside Gap Two Crows: a long white candle, a short black body gapping up, then a
    black candle engulfing it and closing still above the first close. -100. -#}
{% macro cdlupsidegap2crows() -%}
    case
        when {{ cdl_colours_differ({2: 'white', 1: 'black', 0: 'black'}) }} then 0
        when {{ cdl_real_body(2) }} > {{ cdl_avg('BodyLong', 2) }}
            and {{ cdl_real_body(1) }} <= {{ cdl_avg('BodyShort', 1) }}
            and {{ cdl_body_gap_up(1, 2) }}
            and o0 > o1 and c0 < c1 and c0 > c2
            and {{ cdl_past_lookback(['BodyShort', 'BodyLong'], 2) }}
            then -100
        else 0
    end
{%- endmacro %}
