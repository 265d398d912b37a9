{#-
    How incremental models upsert on their unique key. Athena only merges into Iceberg;
    DuckDB's delete+insert is faster than its MERGE for whole-row replacement.
-#}
{% macro upsert_strategy() -%}
    {{ return(adapter.dispatch('upsert_strategy', 'condvest')()) }}
{%- endmacro %}

{% macro default__upsert_strategy() -%}
    {{ return('merge') }}
{%- endmacro %}

{% macro duckdb__upsert_strategy() -%}
    {{ return('delete+insert') }}
{%- endmacro %}
