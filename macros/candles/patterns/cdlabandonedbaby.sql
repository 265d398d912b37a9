{#- Abandoned Baby: a long candle, a doji gapping away from it (whole-candle gap), then a
    not-short opposite candle gapping back and closing well into the first body
    (penetration, default 0.3). Colour of the last candle: +100 bottom, -100 top. -#}
{% macro cdlabandonedbaby(penetration=0.3) -%}
    case
        when {{ cdl_real_body(2) }} > {{ cdl_avg('BodyLong', 2) }}
            and {{ cdl_real_body(1) }} <= {{ cdl_avg('BodyDoji', 1) }}
            and {{ cdl_real_body(0) }} > {{ cdl_avg('BodyShort', 0) }}
            and (
                (
                    {{ cdl_white(2) }} and {{ cdl_black(0) }}
                    and c0 < c2 - {{ cdl_real_body(2) }} * {{ cdl_double(penetration) }}
                    and {{ cdl_gap_up(1, 2) }} and {{ cdl_gap_down(0, 1) }}
                ) or (
                    {{ cdl_black(2) }} and {{ cdl_white(0) }}
                    and c0 > c2 + {{ cdl_real_body(2) }} * {{ cdl_double(penetration) }}
                    and {{ cdl_gap_down(1, 2) }} and {{ cdl_gap_up(0, 1) }}
                )
            )
            and {{ cdl_past_lookback(['BodyDoji', 'BodyLong', 'BodyShort'], 2) }}
            then {{ cdl_color(0) }} * 100
        else 0
    end
{%- endmacro %}
