{#- Three Outside Up/Down: a candle engulfed by an opposite-coloured one, then a third
    candle closing further in the engulfing direction. +100 up (white engulfing), -100
    down (black engulfing). -#}
{% macro cdl3outside() -%}
    case
        when {{ cdl_color(1) }} = {{ cdl_color(2) }} then 0
        when (
            ({{ cdl_white(1) }} and c1 > o2 and o1 < c2 and c0 > c1)
            or ({{ cdl_black(1) }} and o1 > c2 and c1 < o2 and c0 < c1)
        )
            and {{ cdl_past_lookback([], 3) }}
            then {{ cdl_color(1) }} * 100
        else 0
    end
{%- endmacro %}
