{#- Evening Star: a long white candle, a short body gapping up, then a not-short black
    candle closing well into the first body (below c2 - body * penetration, default 0.3).
    -100. -#}
{% macro cdleveningstar(penetration=0.3) -%}
    {{ cdleveningstar_signal('BodyShort', penetration) }}
{%- endmacro %}


{#- Evening Star and Evening Doji Star differ only in the setting the star's body must not
    exceed. -#}
{% macro cdleveningstar_signal(star_body, penetration) -%}
    case
        when {{ cdl_colours_differ({2: 'white', 0: 'black'}) }} then 0
        when {{ cdl_real_body(2) }} > {{ cdl_avg('BodyLong', 2) }}
            and {{ cdl_real_body(1) }} <= {{ cdl_avg(star_body, 1) }}
            and {{ cdl_body_gap_up(1, 2) }}
            and {{ cdl_real_body(0) }} > {{ cdl_avg('BodyShort', 0) }}
            and c0 < c2 - {{ cdl_real_body(2) }} * {{ cdl_double(penetration) }}
            and {{ cdl_past_lookback([star_body, 'BodyLong', 'BodyShort'], 2) }}
            then -100
        else 0
    end
{%- endmacro %}
