{#- Morning Star: a long black candle, a short body gapping down, then a white candle
    (not short) closing above the first close by penetration (default 0.3) of its body.
    +100. -#}
{% macro cdlmorningstar(penetration=0.3) -%}
    {{ cdlmorningstar_signal('BodyShort', penetration) }}
{%- endmacro %}


{#- Morning Star and Morning Doji Star differ only in the setting the star's body must not
    exceed. -#}
{% macro cdlmorningstar_signal(star_body, penetration) -%}
    case
        when {{ cdl_colours_differ({2: 'black', 0: 'white'}) }} then 0
        when {{ cdl_real_body(2) }} > {{ cdl_avg('BodyLong', 2) }}
            and {{ cdl_real_body(1) }} <= {{ cdl_avg(star_body, 1) }}
            and {{ cdl_body_gap_down(1, 2) }}
            and {{ cdl_real_body(0) }} > {{ cdl_avg('BodyShort', 0) }}
            and c0 > c2 + {{ cdl_real_body(2) }} * {{ cdl_double(penetration) }}
            and {{ cdl_past_lookback([star_body, 'BodyLong', 'BodyShort'], 2) }}
            then 100
        else 0
    end
{%- endmacro %}
