{#- Three-Line Strike: three same-coloured candles, each opening near the previous body
    and closing further on, then an opposite candle opening beyond the third close and
    closing beyond the first open. Colour of the third candle: +100 for three whites
    struck by a black candle, -100 for three blacks struck by a white one. -#}
{% macro cdl3linestrike() -%}
    case
        when {{ cdl_color(3) }} = {{ cdl_color(2) }}
            and {{ cdl_color(2) }} = {{ cdl_color(1) }}
            and {{ cdl_color(0) }} = -{{ cdl_color(1) }}
            and o2 >= {{ cdl_bottom(3) }} - {{ cdl_avg('Near', 3) }}
            and o2 <= {{ cdl_top(3) }} + {{ cdl_avg('Near', 3) }}
            and o1 >= {{ cdl_bottom(2) }} - {{ cdl_avg('Near', 2) }}
            and o1 <= {{ cdl_top(2) }} + {{ cdl_avg('Near', 2) }}
            and (
                ({{ cdl_white(1) }} and c1 > c2 and c2 > c3 and o0 > c1 and c0 < o3)
                or ({{ cdl_black(1) }} and c1 < c2 and c2 < c3 and o0 < c1 and c0 > o3)
            )
            and {{ cdl_past_lookback(['Near'], 3) }}
            then {{ cdl_color(1) }} * 100
        else 0
    end
{%- endmacro %}
