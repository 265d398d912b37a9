{#-
    The order a model's rows are written in (`columns`: an order-by list), so that a
    filter on a constant bound of its leading column skips most of the table. DuckDB keeps
    min/max statistics per row group, and rows written in date (or month) order give each
    row group a narrow range; Athena/Iceberg prunes by the year partitions and each data
    file's min/max in the manifests instead (date_partitioning), so no sort is paid there.
-#}
{% macro cluster_order(columns) -%}
    {{ return(adapter.dispatch('cluster_order', 'condvest')(columns)) }}
{%- endmacro %}

{% macro default__cluster_order(columns) -%}
    {{ return('') }}
{%- endmacro %}

{% macro duckdb__cluster_order(columns) -%}
    {{ return('order by ' ~ columns) }}
{%- endmacro %}
