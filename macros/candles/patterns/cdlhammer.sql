{#- Hammer: a short body with a lower shadow longer than the body and a very short upper
    shadow, its body at or below the previous candle's low (within Near of the previous
    candle). +100. -#}
{% macro cdlhammer() -%}
    case
        when {{ cdl_real_body(0) }} < {{ cdl_avg('BodyShort', 0) }}
            and {{ cdl_lower_shadow(0) }} > {{ cdl_avg('ShadowLong', 0) }}
            and {{ cdl_upper_shadow(0) }} < {{ cdl_avg('ShadowVeryShort', 0) }}
            and {{ cdl_bottom(0) }} <= l1 + {{ cdl_avg('Near', 1) }}
            and {{ cdl_past_lookback(
                ['BodyShort', 'ShadowLong', 'ShadowVeryShort', 'Near'], 1
            ) }}
            then 100
        else 0
    end
{%- endmacro %}
