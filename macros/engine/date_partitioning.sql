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

    What it costs the daily run: the incremental models read from constant bounds and
    Iceberg keeps each data file's min/max per column in its manifests, so Athena and
    Trino skip every file of an older year before reading it; but a look-back that
    reaches into last year (ml_features' 138 sessions, a 34-session bucket) reads that
    year's files whole. Measured by bench/bench_trino.py (bench/README.md): on 1,000
    symbols x 10 years a daily run reads 5.4% of a full build, most of it such files.
    Tried on Trino: sorted_by date with 4 MB row groups read half of a year for its last
    four months; a small target file size read more, not less. The way on: a partition column that is the month for the last twelve
    months of the rows written and the year before (36 partitions for a history from 2003).
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
