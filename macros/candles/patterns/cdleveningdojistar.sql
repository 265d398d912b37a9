{#- Evening Doji Star: a long white candle, a doji whose body gaps up, then a not-short
    black candle closing well into the first body (below c2 - body * penetration, default
    0.3). -100. -#}
{% macro cdleveningdojistar(penetration=0.3) -%}
    case
        when bar_number < {{ cdl_lookback(['BodyDoji', 'BodyLong', 'BodyShort'], 2) }} then 0
        when {{ cdl_real_body(2) }} > {{ cdl_avg('BodyLong', 2) }}
            and {{ cdl_white(2) }}
            and {{ cdl_real_body(1) }} <= {{ cdl_avg('BodyDoji', 1) }}
            and {{ cdl_body_gap_up(1, 2) }}
            and {{ cdl_real_body(0) }} > {{ cdl_avg('BodyShort', 0) }}
            and {{ cdl_black(0) }}
            and c0 < c2 - {{ cdl_real_body(2) }} * {{ cdl_double(penetration) }}
            then -100
        else 0
    end
{%- endmacro %}
