{#- Inverted Hammer: a short body with a long upper shadow and almost no lower shadow,
    its body gapping down from the previous body. +100. -#}
{% macro cdlinvertedhammer() -%}
    case
        when {{ cdl_real_body(0) }} < {{ cdl_avg('BodyShort', 0) }}
            and {{ cdl_upper_shadow(0) }} > {{ cdl_avg('ShadowLong', 0) }}
            and {{ cdl_lower_shadow(0) }} < {{ cdl_avg('ShadowVeryShort', 0) }}
            and {{ cdl_body_gap_down(0, 1) }}
            and {{ cdl_past_lookback(['BodyShort', 'ShadowLong', 'ShadowVeryShort'], 1) }}
            then 100
        else 0
    end
{%- endmacro %}
