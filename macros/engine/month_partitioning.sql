{#-
    Table partitioning by month of a date column. Athena/Iceberg: a hidden `month()`
    transform (dbt-athena batches writes that would open more than 100 partitions).
    DuckDB tables are not partitioned.
-#}
{% macro month_partitioning(column) -%}
    {{ return(adapter.dispatch('month_partitioning', 'condvest')(column)) }}
{%- endmacro %}

{% macro default__month_partitioning(column) -%}
    {{ return(['month(' ~ column ~ ')']) }}
{%- endmacro %}

{% macro duckdb__month_partitioning(column) -%}
    {{ return(none) }}
{%- endmacro %}
