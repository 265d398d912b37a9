{#- Three Inside Up/Down: a long candle, a short body inside it (a harami), then a candle
    of the opposite colour closing beyond the first candle's open. +100 when the first
    candle is black, -100 when it is white. -#}
{% macro cdl3inside() -%}
    case
        when {{ cdl_real_body(2) }} > {{ cdl_avg('BodyLong', 2) }}
            and {{ cdl_real_body(1) }} <= {{ cdl_avg('BodyShort', 1) }}
            and {{ cdl_top(1) }} < {{ cdl_top(2) }}
            and {{ cdl_bottom(1) }} > {{ cdl_bottom(2) }}
            and (
                ({{ cdl_white(2) }} and {{ cdl_black(0) }} and c0 < o2)
                or ({{ cdl_black(2) }} and {{ cdl_white(0) }} and c0 > o2)
            )
            and {{ cdl_past_lookback(['BodyShort', 'BodyLong'], 2) }}
            then -{{ cdl_color(2) }} * 100
        else 0
    end
{%- endmacro %}
