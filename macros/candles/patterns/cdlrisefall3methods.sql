{#- Rising/Falling Three Methods: a long candle, three short bodies of the opposite
    colour stepping back inside its range, then a long candle of the first colour opening
    beyond the last close and closing beyond the first close. +-100, the first colour. -#}
{% macro cdlrisefall3methods() -%}
    case
        when {{ cdl_real_body(4) }} > {{ cdl_avg('BodyLong', 4) }}
            and {{ cdl_real_body(3) }} < {{ cdl_avg('BodyShort', 3) }}
            and {{ cdl_real_body(2) }} < {{ cdl_avg('BodyShort', 2) }}
            and {{ cdl_real_body(1) }} < {{ cdl_avg('BodyShort', 1) }}
            and {{ cdl_real_body(0) }} > {{ cdl_avg('BodyLong', 0) }}
            and {{ cdl_bottom(3) }} < h4 and {{ cdl_top(3) }} > l4
            and {{ cdl_bottom(2) }} < h4 and {{ cdl_top(2) }} > l4
            and {{ cdl_bottom(1) }} < h4 and {{ cdl_top(1) }} > l4
            and (
                (
                    {{ cdl_white(4) }} and {{ cdl_black(3) }} and {{ cdl_black(2) }}
                    and {{ cdl_black(1) }} and {{ cdl_white(0) }}
                    and c2 < c3 and c1 < c2 and o0 > c1 and c0 > c4
                ) or (
                    {{ cdl_black(4) }} and {{ cdl_white(3) }} and {{ cdl_white(2) }}
                    and {{ cdl_white(1) }} and {{ cdl_black(0) }}
                    and c2 > c3 and c1 > c2 and o0 < c1 and c0 < c4
                )
            )
            and {{ cdl_past_lookback(['BodyShort', 'BodyLong'], 4) }}
            then {{ cdl_color(4) }} * 100
        else 0
    end
{%- endmacro %}
