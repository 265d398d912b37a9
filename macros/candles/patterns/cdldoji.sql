{#- Doji: a real body no larger than BodyDoji (10% of the average range). +100. -#}
{% macro cdldoji() -%}
    case
        when {{ cdl_real_body(0) }} <= {{ cdl_avg('BodyDoji', 0) }}
            and {{ cdl_past_lookback(['BodyDoji'], 0) }}
            then 100
        else 0
    end
{%- endmacro %}
