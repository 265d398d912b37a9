{#- Doji: a real body no larger than BodyDoji (10% of the average range). +100. -#}
{% macro cdldoji() -%}
    case
        when bar_number < {{ cdl_lookback(['BodyDoji'], 0) }} then 0
        when {{ cdl_real_body(0) }} <= {{ cdl_avg('BodyDoji', 0) }} then 100
        else 0
    end
{%- endmacro %}
