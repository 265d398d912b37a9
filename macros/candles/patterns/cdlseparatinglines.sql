{#- Separating Lines: a candle opening at the previous opposite-coloured candle's open
    (within Equal), long, with a very short shadow on its opening side. +-100, the colour
    of the second candle. -#}
{% macro cdlseparatinglines() -%}
    case
        when {{ cdl_color(1) }} = -{{ cdl_color(0) }}
            and o0 <= o1 + {{ cdl_avg('Equal', 1) }}
            and o0 >= o1 - {{ cdl_avg('Equal', 1) }}
            and {{ cdl_real_body(0) }} > {{ cdl_avg('BodyLong', 0) }}
            and (
                (
                    {{ cdl_white(0) }}
                    and {{ cdl_lower_shadow(0) }} < {{ cdl_avg('ShadowVeryShort', 0) }}
                ) or (
                    {{ cdl_black(0) }}
                    and {{ cdl_upper_shadow(0) }} < {{ cdl_avg('ShadowVeryShort', 0) }}
                )
            )
            and {{ cdl_past_lookback(['ShadowVeryShort', 'BodyLong', 'Equal'], 1) }}
            then {{ cdl_color(0) }} * 100
        else 0
    end
{%- endmacro %}
