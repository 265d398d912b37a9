{#- Engulfing: a body that engulfs the previous opposite-coloured body. +-100, or +-80
    when one end of the two bodies is equal (TA-Lib 0.5 and later). Sign of candle 0. -#}
{% macro cdlengulfing() -%}
    case
        when {{ cdl_color(0) }} = {{ cdl_color(1) }} then 0
        when (
            (
                {{ cdl_white(0) }}
                and ((c0 >= o1 and o0 < c1) or (c0 > o1 and o0 <= c1))
            ) or (
                {{ cdl_black(0) }}
                and ((o0 >= c1 and c0 < o1) or (o0 > c1 and c0 <= o1))
            )
        )
            and {{ cdl_past_lookback([], 2) }}
            then {{ cdl_color(0) }} * (case when o0 != c1 and c0 != o1 then 100 else 80 end)
        else 0
    end
{%- endmacro %}
