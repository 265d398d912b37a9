{#- Doji Star: a long candle, then a doji whose body gaps away in the candle's direction.
    -100 after a long white candle (doji above), +100 after a long black one (doji
    below): the opposite of the first candle's colour. -#}
{% macro cdldojistar() -%}
    case
        when {{ cdl_real_body(1) }} > {{ cdl_avg('BodyLong', 1) }}
            and {{ cdl_real_body(0) }} <= {{ cdl_avg('BodyDoji', 0) }}
            and (
                ({{ cdl_white(1) }} and {{ cdl_body_gap_up(0, 1) }})
                or ({{ cdl_black(1) }} and {{ cdl_body_gap_down(0, 1) }})
            )
            and {{ cdl_past_lookback(['BodyDoji', 'BodyLong'], 1) }}
            then -{{ cdl_color(1) }} * 100
        else 0
    end
{%- endmacro %}
