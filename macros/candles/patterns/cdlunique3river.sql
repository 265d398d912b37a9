{#- Unique 3 River: a long black candle, a black candle with a higher close, no higher
    open and a lower low, then a short white candle opening above that low. +100. -#}
{% macro cdlunique3river() -%}
    case
        when {{ cdl_colours_differ({2: 'black', 1: 'black', 0: 'white'}) }} then 0
        when {{ cdl_real_body(2) }} > {{ cdl_avg('BodyLong', 2) }}
            and c1 > c2 and o1 <= o2 and l1 < l2
            and {{ cdl_real_body(0) }} < {{ cdl_avg('BodyShort', 0) }}
            and o0 > l1
            and {{ cdl_past_lookback(['BodyShort', 'BodyLong'], 2) }}
            then 100
        else 0
    end
{%- endmacro %}
