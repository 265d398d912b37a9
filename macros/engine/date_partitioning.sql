{#-
    Table partitioning by the year of a date column: Iceberg's hidden `year()` transform
    on Athena and Trino; DuckDB tables are not partitioned.

    Why years, not months: Athena (and Trino with iceberg.max-partitions-per-writer=100)
    fails a write that opens more than 100 partitions (ICEBERG_TOO_MANY_OPEN_PARTITIONS).
    A first build of a history from 2003 writes every month since: 288 partitions by
    2027, far over the limit, and so does the MERGE of a split restatement, which rewrites
    one symbol's whole history. dbt-trino splits no write, so on Trino such a build fails;
    dbt-athena catches the error and re-runs the write in batches of 100 partitions, each
    batch a query that scans its source again. By year the same writes open 25 partitions
    in 2027 and stay under 100 until 2102, on both, in one statement.

    Daily reads stay pruned without finer partitions: the incremental models read Bronze
    from a constant session_index bound, and Iceberg keeps each data file's min/max per
    column in its manifests, so Athena and Trino skip every file of an older year (a file
    holds one year) before reading it. Within the current year a daily run reads the
    year's files: measured by bench/bench_trino.py, see bench/README.md.
-#}
{% macro date_partitioning(column) -%}
    {{ return(adapter.dispatch('date_partitioning', 'condvest')(column)) }}
{%- endmacro %}

{% macro default__date_partitioning(column) -%}
    {{ return(['year(' ~ column ~ ')']) }}
{%- endmacro %}

{% macro duckdb__date_partitioning(column) -%}
    {{ return(none) }}
{%- endmacro %}

{#-
    The same partitioning as table properties, for adapters that take it there:
    dbt-trino ignores `partitioned_by` and writes its `properties` config into CREATE
    TABLE ... WITH (...), where the Iceberg connector reads `partitioning`. A model sets
    both configs; each adapter reads its own.
-#}
{% macro date_partitioning_properties(column) -%}
    {{ return(adapter.dispatch('date_partitioning_properties', 'condvest')(column)) }}
{%- endmacro %}

{% macro default__date_partitioning_properties(column) -%}
    {{ return(none) }}
{%- endmacro %}

{% macro trino__date_partitioning_properties(column) -%}
    {{ return({'partitioning': "ARRAY['year(" ~ column ~ ")']"}) }}
{%- endmacro %}
