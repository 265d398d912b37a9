{#- Spinning Top: a short body with both shadows longer than the body. +-100, the
    candle's colour (a doji with C = O is white). -#}
{% macro cdlspinningtop() -%}
    case
        when {{ cdl_real_body(0) }} < {{ cdl_avg('BodyShort', 0) }}
            and {{ cdl_upper_shadow(0) }} > {{ cdl_real_body(0) }}
            and {{ cdl_lower_shadow(0) }} > {{ cdl_real_body(0) }}
            and {{ cdl_past_lookback(['BodyShort'], 0) }}
            then {{ cdl_color(0) }} * 100
        else 0
    end
{%- endmacro %}
