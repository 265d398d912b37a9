{#- Thrusting: a long black candle, then a white candle opening below its low and
    closing into its body, above the Equal band of its close but not above its midpoint
    (hard-coded 0.5). -100. -#}
{% macro cdlthrusting() -%}
    case
        when {{ cdl_colours_differ({1: 'black', 0: 'white'}) }} then 0
        when {{ cdl_real_body(1) }} > {{ cdl_avg('BodyLong', 1) }}
            and o0 < l1
            and c0 > c1 + {{ cdl_avg('Equal', 1) }}
            and c0 <= c1 + {{ cdl_real_body(1) }} * {{ cdl_double(0.5) }}
            and {{ cdl_past_lookback(['Equal', 'BodyLong'], 1) }}
            then -100
        else 0
    end
{%- endmacro %}
