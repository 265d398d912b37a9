{#- Long Legged Doji: a doji with one shadow longer than its real body. +100. -#}
{% macro cdllongleggeddoji() -%}
    case
        when {{ cdl_real_body(0) }} <= {{ cdl_avg('BodyDoji', 0) }}
            and (
                {{ cdl_lower_shadow(0) }} > {{ cdl_avg('ShadowLong', 0) }}
                or {{ cdl_upper_shadow(0) }} > {{ cdl_avg('ShadowLong', 0) }}
            )
            and {{ cdl_past_lookback(['BodyDoji', 'ShadowLong'], 0) }}
            then 100
        else 0
    end
{%- endmacro %}
