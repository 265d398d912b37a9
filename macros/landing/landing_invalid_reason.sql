{#-
    Staging's verdict on a landing row: landing's own `invalid_reason`, or for a row
    landing let through, the value rules again (bar_value_problems). Null for a valid row.
    Staging splits on it (ohlcv_daily or ohlcv_rejected) and landing_consolidation judges
    by it, so a row staging alone rejects is accounted for by ohlcv_rejected.
-#}
{% macro landing_invalid_reason(landed_reason, relation='') -%}
    coalesce({{ landed_reason }}, {{ bar_value_problems(relation) }})
{%- endmacro %}
