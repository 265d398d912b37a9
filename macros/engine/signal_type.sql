{#-
    The type of a pattern signal (0, +-80, +-100, +-200). Athena's Iceberg DDL has no
    smallint, so it is an integer there.
-#}
{% macro signal_type() -%}
    {{ return(adapter.dispatch('signal_type', 'condvest')()) }}
{%- endmacro %}

{% macro default__signal_type() -%}
    integer
{%- endmacro %}

{% macro duckdb__signal_type() -%}
    smallint
{%- endmacro %}
