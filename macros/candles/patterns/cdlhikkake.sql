{#- Hikkake: an inside bar, then a bar breaking out of it on one side (higher high and
    higher low: -100; lower high and lower low: +100). A close beyond the inside bar's
    high (bullish) or low (bearish) on one of the next three bars confirms it: +200 /
    -200, only on the first such close and only while no newer pattern has formed. The
    TA-Lib state machine, written without recursion over the last three bars. -#}
{% macro cdlhikkake() -%}
    case
        when bar_number < {{ cdl_lookback([], 5) }} then 0
        when {{ cdlhikkake_raw(0) }} != 0 then {{ cdlhikkake_raw(0) }}
        when {{ cdlhikkake_raw(1) }} != 0 then (
            case
                when {{ cdlhikkake_confirms(1, 0) }}
                    then 2 * {{ cdlhikkake_raw(1) }}
                else 0
            end
        )
        when {{ cdlhikkake_raw(2) }} != 0 then (
            case
                when {{ cdlhikkake_confirms(2, 0) }}
                    and not {{ cdlhikkake_confirms(2, 1) }}
                    then 2 * {{ cdlhikkake_raw(2) }}
                else 0
            end
        )
        when {{ cdlhikkake_raw(3) }} != 0 then (
            case
                when {{ cdlhikkake_confirms(3, 0) }}
                    and not {{ cdlhikkake_confirms(3, 1) }}
                    and not {{ cdlhikkake_confirms(3, 2) }}
                    then 2 * {{ cdlhikkake_raw(3) }}
                else 0
            end
        )
        else 0
    end
{%- endmacro %}


{#- The pattern bar alone, k bars back (+100 / -100 / 0): bar k+1 inside bar k+2, bar k
    breaking out of bar k+1. TA-Lib only looks for it from bar LB - 3 on (its warm-up). -#}
{% macro cdlhikkake_raw(k) -%}
    (case
        when bar_number - {{ k }} < {{ cdl_lookback([], 5) - 3 }} then 0
        when not (h{{ k + 1 }} < h{{ k + 2 }} and l{{ k + 1 }} > l{{ k + 2 }}) then 0
        when h{{ k }} < h{{ k + 1 }} and l{{ k }} < l{{ k + 1 }} then 100
        when h{{ k }} > h{{ k + 1 }} and l{{ k }} > l{{ k + 1 }} then -100
        else 0
    end)
{%- endmacro %}


{#- Bar m closes beyond the inside bar of the pattern k bars back (a pattern known to be
    there): above its high if the pattern is bullish (its high below the inside bar's),
    below its low if bearish. -#}
{% macro cdlhikkake_confirms(k, m) -%}
    (
        (h{{ k }} < h{{ k + 1 }} and c{{ m }} > h{{ k + 1 }})
        or (h{{ k }} > h{{ k + 1 }} and c{{ m }} < l{{ k + 1 }})
    )
{%- endmacro %}
