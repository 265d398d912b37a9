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

{#-
    The same partitioning as table properties, for adapters that take it there:
    dbt-trino ignores `partitioned_by` and writes its `properties` config into CREATE
    TABLE ... WITH (...), where the Iceberg connector reads `partitioning`. A model sets
    both configs; each adapter reads its own. Unlike dbt-athena, dbt-trino does not batch
    a write that opens more than 100 partitions (Iceberg's per-writer limit, as Athena's).
-#}
{% macro month_partitioning_properties(column) -%}
    {{ return(adapter.dispatch('month_partitioning_properties', 'condvest')(column)) }}
{%- endmacro %}

{% macro default__month_partitioning_properties(column) -%}
    {{ return(none) }}
{%- endmacro %}

{% macro trino__month_partitioning_properties(column) -%}
    {{ return({'partitioning': "ARRAY['month(" ~ column ~ ")']"}) }}
{%- endmacro %}
