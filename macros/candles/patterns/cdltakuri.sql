{#- Takuri: a doji with a very short upper shadow and a lower shadow longer than twice
    its body. +100. -#}
{% macro cdltakuri() -%}
    case
        when {{ cdl_real_body(0) }} <= {{ cdl_avg('BodyDoji', 0) }}
            and {{ cdl_upper_shadow(0) }} < {{ cdl_avg('ShadowVeryShort', 0) }}
            and {{ cdl_lower_shadow(0) }} > {{ cdl_avg('ShadowVeryLong', 0) }}
            and {{ cdl_past_lookback(['BodyDoji', 'ShadowVeryShort', 'ShadowVeryLong'], 0) }}
            then 100
        else 0
    end
{%- endmacro %}
