{#-
    A lower session_index bound for an incremental run, from `query` (one row, one
    integer column), computed before the model runs so it is written into the model's
    SQL as a constant: the engine then skips older row groups by their statistics.
    A null answer (nothing to recompute) becomes a bound past every session; no answer
    (not executing, or an empty result) is none: no bound.
-#}
{% macro session_bound(query) %}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set result = run_query(query) -%}
    {%- set first = result.rows[0] if result.rows | length > 0 else [] -%}
    {%- if first | length == 0 -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(2147483647 if first[0] is none else first[0] | int) }}
{% endmacro %}
