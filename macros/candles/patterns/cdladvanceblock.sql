{#- Advance Block: three white candles advancing like three white soldiers (the first
    long with a short upper shadow), but with signs of weakening: shrinking bodies or
    long upper shadows on the later candles. -100. -#}
{% macro cdladvanceblock() -%}
    case
        when {{ cdl_white(2) }} and {{ cdl_white(1) }} and {{ cdl_white(0) }}
            and c0 > c1 and c1 > c2
            and o1 > o2 and o1 <= c2 + {{ cdl_avg('Near', 2) }}
            and o0 > o1 and o0 <= c1 + {{ cdl_avg('Near', 1) }}
            and {{ cdl_real_body(2) }} > {{ cdl_avg('BodyLong', 2) }}
            and {{ cdl_upper_shadow(2) }} < {{ cdl_avg('ShadowShort', 2) }}
            and (
                (
                    {{ cdl_real_body(1) }} < {{ cdl_real_body(2) }} - {{ cdl_avg('Far', 2) }}
                    and {{ cdl_real_body(0) }} < {{ cdl_real_body(1) }} + {{ cdl_avg('Near', 1) }}
                ) or (
                    {{ cdl_real_body(0) }} < {{ cdl_real_body(1) }} - {{ cdl_avg('Far', 1) }}
                ) or (
                    {{ cdl_real_body(0) }} < {{ cdl_real_body(1) }}
                    and {{ cdl_real_body(1) }} < {{ cdl_real_body(2) }}
                    and (
                        {{ cdl_upper_shadow(0) }} > {{ cdl_avg('ShadowShort', 0) }}
                        or {{ cdl_upper_shadow(1) }} > {{ cdl_avg('ShadowShort', 1) }}
                    )
                ) or (
                    {{ cdl_real_body(0) }} < {{ cdl_real_body(1) }}
                    and {{ cdl_upper_shadow(0) }} > {{ cdl_avg('ShadowLong', 0) }}
                )
            )
            and {{ cdl_past_lookback(
                ['ShadowLong', 'ShadowShort', 'Far', 'Near', 'BodyLong'], 2
            ) }}
            then -100
        else 0
    end
{%- endmacro %}
