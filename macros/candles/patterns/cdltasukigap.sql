{#- Tasuki Gap: a body gap, a candle in the gap's direction, then an opposite candle of
    near-equal body opening inside it and closing inside the gap. +-100, the colour of
    the middle candle. -#}
{% macro cdltasukigap() -%}
    case
        when {{ cdl_color(1) }} = {{ cdl_color(0) }} then 0
        when (
            (
                {{ cdl_body_gap_up(1, 2) }}
                and {{ cdl_white(1) }}
                and o0 < c1 and o0 > o1
                and c0 < o1 and c0 > {{ cdl_top(2) }}
                and abs({{ cdl_real_body(1) }} - {{ cdl_real_body(0) }}) < {{ cdl_avg('Near', 1) }}
            ) or (
                {{ cdl_body_gap_down(1, 2) }}
                and {{ cdl_black(1) }}
                and o0 < o1 and o0 > c1
                and c0 > o1 and c0 < {{ cdl_bottom(2) }}
                and abs({{ cdl_real_body(1) }} - {{ cdl_real_body(0) }}) < {{ cdl_avg('Near', 1) }}
            )
        )
            and {{ cdl_past_lookback(['Near'], 2) }}
            then {{ cdl_color(1) }} * 100
        else 0
    end
{%- endmacro %}
