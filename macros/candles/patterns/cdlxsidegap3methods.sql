{#- Upside/Downside Gap Three Methods: two same-coloured candles with a body gap in their
    direction, then an opposite candle opening inside the second body and closing inside
    the first. +-100, the colour of the first two. -#}
{% macro cdlxsidegap3methods() -%}
    case
        when {{ cdl_color(2) }} = {{ cdl_color(1) }}
            and {{ cdl_color(1) }} = -{{ cdl_color(0) }}
            and o0 < {{ cdl_top(1) }} and o0 > {{ cdl_bottom(1) }}
            and c0 < {{ cdl_top(2) }} and c0 > {{ cdl_bottom(2) }}
            and (
                ({{ cdl_white(2) }} and {{ cdl_body_gap_up(1, 2) }})
                or ({{ cdl_black(2) }} and {{ cdl_body_gap_down(1, 2) }})
            )
            and {{ cdl_past_lookback([], 2) }}
            then {{ cdl_color(2) }} * 100
        else 0
    end
{%- endmacro %}
