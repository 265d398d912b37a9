{#- Tristar: three dojis (all tested against the BodyDoji average of the first), the
    middle one's body gapping away. -100 when it gaps up and the third body tops out
    lower, +100 when it gaps down and the third body bottoms out higher. -#}
{% macro cdltristar() -%}
    case
        when {{ cdl_real_body(2) }} <= {{ cdl_avg('BodyDoji', 2) }}
            and {{ cdl_real_body(1) }} <= {{ cdl_avg('BodyDoji', 2) }}
            and {{ cdl_real_body(0) }} <= {{ cdl_avg('BodyDoji', 2) }}
            and {{ cdl_past_lookback(['BodyDoji'], 2) }}
            then (
                case
                    when {{ cdl_body_gap_up(1, 2) }}
                        and {{ cdl_top(0) }} < {{ cdl_top(1) }}
                        then -100
                    when {{ cdl_body_gap_down(1, 2) }}
                        and {{ cdl_bottom(0) }} > {{ cdl_bottom(1) }}
                        then 100
                    else 0
                end
            )
        else 0
    end
{%- endmacro %}
