{#- Closing Marubozu: a long candle closing on its extreme, a white one with a very short
    upper shadow or a black one with a very short lower shadow. Colour: +100 / -100. -#}
{% macro cdlclosingmarubozu() -%}
    case
        when {{ cdl_real_body(0) }} > {{ cdl_avg('BodyLong', 0) }}
            and (
                (
                    {{ cdl_white(0) }}
                    and {{ cdl_upper_shadow(0) }} < {{ cdl_avg('ShadowVeryShort', 0) }}
                ) or (
                    {{ cdl_black(0) }}
                    and {{ cdl_lower_shadow(0) }} < {{ cdl_avg('ShadowVeryShort', 0) }}
                )
            )
            and {{ cdl_past_lookback(['BodyLong', 'ShadowVeryShort'], 0) }}
            then {{ cdl_color(0) }} * 100
        else 0
    end
{%- endmacro %}
