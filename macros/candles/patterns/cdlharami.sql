{#- Harami: a long candle, then a short body inside its body (any colour). The opposite
    of the first candle's colour: +-100 when strictly inside, +-80 when one end of the
    bodies is equal. -#}
{% macro cdlharami() -%}
    {{ cdlharami_signal('BodyShort') }}
{%- endmacro %}


{#- Harami and Harami Cross differ only in the setting the second body must not exceed. -#}
{% macro cdlharami_signal(second_body) -%}
    case
        when {{ cdl_real_body(1) }} > {{ cdl_avg('BodyLong', 1) }}
            and {{ cdl_real_body(0) }} <= {{ cdl_avg(second_body, 0) }}
            and {{ cdl_past_lookback([second_body, 'BodyLong'], 1) }}
            then (
                case
                    when {{ cdl_top(0) }} < {{ cdl_top(1) }}
                        and {{ cdl_bottom(0) }} > {{ cdl_bottom(1) }}
                        then -{{ cdl_color(1) }} * 100
                    when {{ cdl_top(0) }} <= {{ cdl_top(1) }}
                        and {{ cdl_bottom(0) }} >= {{ cdl_bottom(1) }}
                        then -{{ cdl_color(1) }} * 80
                    else 0
                end
            )
        else 0
    end
{%- endmacro %}
