{#-
    The first landing partition (ingest_date) staging has to read.

    Bronze consolidates incrementally, so staging only needs the landing partitions at or
    after the oldest cursor of its consumers (less the look-back window); reading only
    those keeps a daily build from re-deduplicating years of landing files. Returns none
    (read everything) on --full-refresh, when a consumer does not exist yet, or when
    bronze is empty. The scope is baked into the staging view and exposed as its
    `landing_scope_start` column; `require_full_landing_scope` guards full rebuilds.
-#}
{% macro landing_scope_start() %}
    {%- if not execute or flags.FULL_REFRESH -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set cursors = [] -%}
    {%- for name in ['ohlcv_daily', 'ohlcv_rejected'] -%}
        {%- set relation = adapter.get_relation(
            database=target.database,
            schema=generate_schema_name('bronze', none),
            identifier=name,
        ) -%}
        {%- if relation is none -%}
            {{ return(none) }}
        {%- endif -%}
        {%- set cursor = latest_timestamp('ingested_at', relation) -%}
        {%- if cursor is not none -%}
            {%- do cursors.append(cursor) -%}
        {%- elif name == 'ohlcv_daily' -%}
            {{ return(none) }}
        {%- endif -%}
    {%- endfor -%}
    {%- set minutes = var('cursor_lookback_minutes', 60) | int -%}
    {%- set lookback = modules.datetime.timedelta(minutes=minutes) -%}
    {{ return(((cursors | min) - lookback).date().isoformat()) }}
{% endmacro %}


{#- Refuse to rebuild a consumer from a staging view that only reads recent landing. -#}
{% macro require_full_landing_scope(staging_relation) %}
    {%- if execute and not is_incremental() -%}
        {%- set scoped = run_query(
            'select landing_scope_start from ' ~ staging_relation
            ~ ' where landing_scope_start is not null limit 1'
        ) -%}
        {%- if scoped.rows | length > 0 -%}
            {{ exceptions.raise_compiler_error(
                this ~ ' is being rebuilt from scratch but ' ~ staging_relation
                ~ ' only reads landing since ' ~ scoped.columns[0].values()[0]
                ~ '. Rebuild staging with it: dbt build --full-refresh --select '
                ~ staging_relation.identifier ~ '+'
            ) }}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}


{#-
    The first landing partition the reconciliation test reads: in a daily build that
    consolidated landing into bronze, the staging view's scope (computed from bronze's
    cursor before this run), so the test reads what this run consolidated. None (all of
    landing) on full builds, `dbt test` and --vars '{test_scope: all}'.
-#}
{% macro landing_test_scope() %}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set bronze = graph.nodes.get('model.' ~ project_name ~ '.ohlcv_daily') -%}
    {%- if not _scoped_to_this_run(bronze) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set scoped = run_query(
        'select landing_scope_start from ' ~ ref('stg_landing__daily_bars') ~ ' limit 1'
    ) -%}
    {%- set first = scoped.rows[0][0] if scoped.rows | length > 0 else none -%}
    {{ return(none if first is none else first | string) }}
{% endmacro %}
