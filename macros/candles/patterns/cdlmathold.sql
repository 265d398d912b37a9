{#- Mat Hold: a long white candle, a short black body gapping up, two more short bodies
    drifting down inside the first candle's upper part (penetration 0.5), then a white
    candle opening above the last close and closing above the reaction's highs. +100. -#}
{% macro cdlmathold() -%}
    case
        when {{ cdl_colours_differ({4: 'white', 3: 'black', 0: 'white'}) }} then 0
        when {{ cdl_real_body(4) }} > {{ cdl_avg('BodyLong', 4) }}
            and {{ cdl_real_body(3) }} < {{ cdl_avg('BodyShort', 3) }}
            and {{ cdl_real_body(2) }} < {{ cdl_avg('BodyShort', 2) }}
            and {{ cdl_real_body(1) }} < {{ cdl_avg('BodyShort', 1) }}
            and {{ cdl_body_gap_up(3, 4) }}
            and {{ cdl_bottom(2) }} < c4
            and {{ cdl_bottom(1) }} < c4
            and {{ cdl_bottom(2) }} > c4 - {{ cdl_real_body(4) }} * {{ cdl_double(0.5) }}
            and {{ cdl_bottom(1) }} > c4 - {{ cdl_real_body(4) }} * {{ cdl_double(0.5) }}
            and {{ cdl_top(2) }} < o3
            and {{ cdl_top(1) }} < {{ cdl_top(2) }}
            and o0 > c1
            and c0 > greatest(greatest(h3, h2), h1)
            and {{ cdl_past_lookback(['BodyShort', 'BodyLong'], 4) }}
            then 100
        else 0
    end
{%- endmacro %}
