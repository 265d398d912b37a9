{#- Breakaway: a long candle, a same-coloured candle whose body gaps away, two more
    candles stepping further (the middle one of either colour, the fourth of the first
    colour), then an opposite candle closing inside the gap. Colour of the last candle:
    +100 bullish, -100 bearish. -#}
{% macro cdlbreakaway() -%}
    case
        when {{ cdl_real_body(4) }} > {{ cdl_avg('BodyLong', 4) }}
            and {{ cdl_color(4) }} = {{ cdl_color(3) }}
            and {{ cdl_color(3) }} = {{ cdl_color(1) }}
            and {{ cdl_color(1) }} = -{{ cdl_color(0) }}
            and (
                (
                    {{ cdl_black(4) }} and {{ cdl_body_gap_down(3, 4) }}
                    and h2 < h3 and l2 < l3
                    and h1 < h2 and l1 < l2
                    and c0 > o3 and c0 < c4
                ) or (
                    {{ cdl_white(4) }} and {{ cdl_body_gap_up(3, 4) }}
                    and h2 > h3 and l2 > l3
                    and h1 > h2 and l1 > l2
                    and c0 < o3 and c0 > c4
                )
            )
            and {{ cdl_past_lookback(['BodyLong'], 4) }}
            then {{ cdl_color(0) }} * 100
        else 0
    end
{%- endmacro %}
