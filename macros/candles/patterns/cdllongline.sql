{#- Long Line: a long body with short shadows. +-100, the candle's colour. -#}
{% macro cdllongline() -%}
    case
        when {{ cdl_real_body(0) }} > {{ cdl_avg('BodyLong', 0) }}
            and {{ cdl_upper_shadow(0) }} < {{ cdl_avg('ShadowShort', 0) }}
            and {{ cdl_lower_shadow(0) }} < {{ cdl_avg('ShadowShort', 0) }}
            and {{ cdl_past_lookback(['BodyLong', 'ShadowShort'], 0) }}
            then {{ cdl_color(0) }} * 100
        else 0
    end
{%- endmacro %}
