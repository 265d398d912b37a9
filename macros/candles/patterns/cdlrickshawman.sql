{#- Rickshaw Man: a doji with two shadows longer than its body and its body near the
    middle of the range (the midpoint taken as L + HL / 2). +100. -#}
{% macro cdlrickshawman() -%}
    case
        when {{ cdl_real_body(0) }} <= {{ cdl_avg('BodyDoji', 0) }}
            and {{ cdl_lower_shadow(0) }} > {{ cdl_avg('ShadowLong', 0) }}
            and {{ cdl_upper_shadow(0) }} > {{ cdl_avg('ShadowLong', 0) }}
            and {{ cdl_bottom(0) }} <= l0 + {{ cdl_high_low(0) }} / 2 + {{ cdl_avg('Near', 0) }}
            and {{ cdl_top(0) }} >= l0 + {{ cdl_high_low(0) }} / 2 - {{ cdl_avg('Near', 0) }}
            and {{ cdl_past_lookback(['BodyDoji', 'ShadowLong', 'Near'], 0) }}
            then 100
        else 0
    end
{%- endmacro %}
