{#- Kicking: two marubozu of opposite colours (long bodies, very short shadows) with a
    whole-candle gap between them in the direction of the second. +-100, the colour of
    the second candle. -#}
{% macro cdlkicking() -%}
    case
        when {{ cdlkicking_conditions() }}
            and {{ cdl_past_lookback(['ShadowVeryShort', 'BodyLong'], 1) }}
            then {{ cdl_color(0) }} * 100
        else 0
    end
{%- endmacro %}


{#- The Kicking conditions, shared with cdlkickingbylength(). -#}
{% macro cdlkicking_conditions() -%}
    {{ cdl_color(1) }} = -{{ cdl_color(0) }}
            and {{ cdl_real_body(1) }} > {{ cdl_avg('BodyLong', 1) }}
            and {{ cdl_upper_shadow(1) }} < {{ cdl_avg('ShadowVeryShort', 1) }}
            and {{ cdl_lower_shadow(1) }} < {{ cdl_avg('ShadowVeryShort', 1) }}
            and {{ cdl_real_body(0) }} > {{ cdl_avg('BodyLong', 0) }}
            and {{ cdl_upper_shadow(0) }} < {{ cdl_avg('ShadowVeryShort', 0) }}
            and {{ cdl_lower_shadow(0) }} < {{ cdl_avg('ShadowVeryShort', 0) }}
            and (
                ({{ cdl_black(1) }} and {{ cdl_gap_up(0, 1) }})
                or ({{ cdl_white(1) }} and {{ cdl_gap_down(0, 1) }})
            )
{%- endmacro %}
