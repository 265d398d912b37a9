{#- Harami Cross: a long candle, then a doji inside its body. The opposite of the first
    candle's colour: +-100 when strictly inside, +-80 when one end of the bodies is
    equal. -#}
{% macro cdlharamicross() -%}
    case
        when bar_number < {{ cdl_lookback(['BodyDoji', 'BodyLong'], 1) }} then 0
        when {{ cdl_real_body(1) }} > {{ cdl_avg('BodyLong', 1) }}
            and {{ cdl_real_body(0) }} <= {{ cdl_avg('BodyDoji', 0) }}
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
