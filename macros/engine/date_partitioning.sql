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


{#-
    How the incremental models are partitioned on Athena and Trino: by their
    `storage_period` column (storage_period below); DuckDB tables are not partitioned.
    The tables dbt rebuilds whole every run (predictions, prediction_performance) keep
    date_partitioning: no daily read of theirs looks back.
-#}
{% macro storage_partitioning() -%}
    {{ return(adapter.dispatch('storage_partitioning', 'condvest')()) }}
{%- endmacro %}

{% macro default__storage_partitioning() -%}
    {{ return(['storage_period']) }}
{%- endmacro %}

{% macro duckdb__storage_partitioning() -%}
    {{ return(none) }}
{%- endmacro %}

{% macro storage_partitioning_properties() -%}
    {{ return(adapter.dispatch('storage_partitioning_properties', 'condvest')()) }}
{%- endmacro %}

{% macro default__storage_partitioning_properties() -%}
    {{ return(none) }}
{%- endmacro %}

{% macro trino__storage_partitioning_properties() -%}
    {{ return({'partitioning': "ARRAY['storage_period']"}) }}
{%- endmacro %}


{#-
    The partition a row is stored in: its month (yyyymm) when it is within the twelve
    months before the newest date in `newest_from` (a relation with a `date` column), its
    year (yyyy00) before that.

    Why: a daily run reads recent sessions (the look-backs of the patterns, the features,
    an open bucket) and Iceberg prunes by whole files, so recent sessions must not share
    files with old ones: months. But a write may open at most 100 partitions (Athena's
    ICEBERG_TOO_MANY_OPEN_PARTITIONS; Trino's iceberg.max-partitions-per-writer=100 in the
    tests), and a first build of a history from 2003, or the split restatement of a
    symbol's whole history, would open one per month since: years for everything older
    than a year. Such a write opens the history's years plus twelve months (37 for 2003 to
    2027), a day's write one or two. A row keeps the period it was written with; when it is
    rewritten later (a correction, a restatement), it moves to the period of that write,
    which only regroups files: queries prune by the dates' statistics, not by this column.
-#}
{% macro storage_period(date_column, newest_from) -%}
    {%- set hot_since = hot_partitions_since(newest_from) -%}
    cast(
        case
            when {{ date_column }} >= {{ hot_since }}
                then year({{ date_column }}) * 100 + month({{ date_column }})
            else year({{ date_column }}) * 100
        end as integer
    )
{%- endmacro %}


{#- The first day of the month eleven months before the newest date of `relation`, as a
    date literal (for an empty or a unit test's mocked relation, eleven months before the
    run's month). -#}
{% macro hot_partitions_since(relation) -%}
    {%- if not execute -%}
        {{ return("date '1900-01-01'") }}
    {%- endif -%}
    {#- a unit test's given inputs are CTEs of its own query: nothing to ask before -#}
    {%- set mocked = '__dbt__cte__' in relation | string -%}
    {%- set newest = (none if mocked else latest_timestamp('date', relation, 'date'))
        or run_started_at -%}
    {%- set months = newest.year * 12 + newest.month - 1 - 11 -%}
    {{ return("date '%04d-%02d-01'" % ((months // 12), (months % 12) + 1)) }}
{%- endmacro %}
