{#- High-Wave: a short body with very long upper and lower shadows (each more than twice
    the body). The candle's colour: +100 / -100 (+100 for C = O). -#}
{% macro cdlhighwave() -%}
    case
        when {{ cdl_real_body(0) }} < {{ cdl_avg('BodyShort', 0) }}
            and {{ cdl_upper_shadow(0) }} > {{ cdl_avg('ShadowVeryLong', 0) }}
            and {{ cdl_lower_shadow(0) }} > {{ cdl_avg('ShadowVeryLong', 0) }}
            and {{ cdl_past_lookback(['BodyShort', 'ShadowVeryLong'], 0) }}
            then {{ cdl_color(0) }} * 100
        else 0
    end
{%- endmacro %}
