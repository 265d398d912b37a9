{#- Up/Down-gap Side-by-side White Lines: two white candles of about the same size and
    open, both with bodies gapping away from the candle before. +100 when they gap up,
    -100 when they gap down. -#}
{% macro cdlgapsidesidewhite() -%}
    case
        when (
            ({{ cdl_body_gap_up(1, 2) }} and {{ cdl_body_gap_up(0, 2) }})
            or ({{ cdl_body_gap_down(1, 2) }} and {{ cdl_body_gap_down(0, 2) }})
        )
            and {{ cdl_white(1) }} and {{ cdl_white(0) }}
            and {{ cdl_real_body(0) }} >= {{ cdl_real_body(1) }} - {{ cdl_avg('Near', 1) }}
            and {{ cdl_real_body(0) }} <= {{ cdl_real_body(1) }} + {{ cdl_avg('Near', 1) }}
            and o0 >= o1 - {{ cdl_avg('Equal', 1) }}
            and o0 <= o1 + {{ cdl_avg('Equal', 1) }}
            and {{ cdl_past_lookback(['Near', 'Equal'], 2) }}
            then (case when {{ cdl_body_gap_up(1, 2) }} then 100 else -100 end)
        else 0
    end
{%- endmacro %}
