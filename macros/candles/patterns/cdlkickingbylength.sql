{#- Kicking by length: the Kicking pattern (cdlkicking_conditions), its sign taken from
    the longer of the two marubozu (equal bodies take the first). +-100. -#}
{% macro cdlkickingbylength() -%}
    case
        when {{ cdlkicking_conditions() }}
            and {{ cdl_past_lookback(['ShadowVeryShort', 'BodyLong'], 1) }}
            then (
                case
                    when {{ cdl_real_body(0) }} > {{ cdl_real_body(1) }} then {{ cdl_color(0) }}
                    else {{ cdl_color(1) }}
                end
            ) * 100
        else 0
    end
{%- endmacro %}
