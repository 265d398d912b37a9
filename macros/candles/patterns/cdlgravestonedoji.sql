{#- Gravestone Doji: a doji with a very short lower shadow and an upper shadow that is not
    very short. +100. -#}
{% macro cdlgravestonedoji() -%}
    case
        when {{ cdl_real_body(0) }} <= {{ cdl_avg('BodyDoji', 0) }}
            and {{ cdl_lower_shadow(0) }} < {{ cdl_avg('ShadowVeryShort', 0) }}
            and {{ cdl_upper_shadow(0) }} > {{ cdl_avg('ShadowVeryShort', 0) }}
            and {{ cdl_past_lookback(['BodyDoji', 'ShadowVeryShort'], 0) }}
            then 100
        else 0
    end
{%- endmacro %}
