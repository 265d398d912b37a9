{#- Dark Cloud Cover: a long white candle, then a black candle opening above its high and
    closing deep into its body (below c1 - body * penetration, default 0.5) but above its
    open. -100. -#}
{% macro cdldarkcloudcover(penetration=0.5) -%}
    case
        when {{ cdl_colours_differ({1: 'white', 0: 'black'}) }} then 0
        when {{ cdl_real_body(1) }} > {{ cdl_avg('BodyLong', 1) }}
            and o0 > h1
            and c0 > o1
            and c0 < c1 - {{ cdl_real_body(1) }} * {{ cdl_double(penetration) }}
            and {{ cdl_past_lookback(['BodyLong'], 1) }}
            then -100
        else 0
    end
{%- endmacro %}
