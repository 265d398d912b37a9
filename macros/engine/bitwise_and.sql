{#- Bitwise AND of two integers: Trino has a function for it, DuckDB an operator. -#}
{% macro bitwise_and(left, right) -%}
    {{ return(adapter.dispatch('bitwise_and', 'condvest')(left, right)) }}
{%- endmacro %}

{% macro default__bitwise_and(left, right) -%}
    bitwise_and({{ left }}, {{ right }})
{%- endmacro %}

{% macro duckdb__bitwise_and(left, right) -%}
    ({{ left }} & {{ right }})
{%- endmacro %}
