-- noqa: disable=LT02
-- (sqlfluff cannot indent the SQL that Jinja loops over columns or keys generate here)
{#-
    Which rows a data test reads: in a daily `dbt build`, only what the run wrote.

    Every row an incremental model writes carries the run's `built_at`. When `dbt build`
    has just (re)built a model with that column, its tests check the rows with this run's
    `built_at`: a few thousand rows instead of the whole history, on DuckDB by zone maps
    and on Athena by Iceberg file statistics. Key tests (unique on the model's key) check
    every row sharing a key with those rows, so an old row the upsert failed to replace
    still fails them. The whole table is tested when:
      - the model was built from empty or with --full-refresh (every row is this run's);
      - the command is `dbt test` (a check of what is there, not of one run);
      - the model was not selected in this build (its rows are not this run's);
      - a view's parent with `built_at` was not selected (same reason);
      - `--vars '{test_scope: all}'` (CI and `make test` use it);
      - the test compares the whole table with another (matches_talib_oracle).
-#}

{#- Overrides dbt's macro of the same name; a test's own `where` config still applies. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set scope = test_scope_predicate(model) -%}
    {%- if scope is none and not where -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set keys = test_key_columns(model) if scope is not none else [] -%}
    {%- if keys and not _has_older_rows(relation, graph.nodes.get(model.get('attached_node'))) -%}
        {#- every row is this run's (a first build): the plain test, not a self-join -#}
        {%- set keys = [] -%}
        {%- set scope = none -%}
    {%- endif -%}
    {%- if scope is none and not where -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set conditions = [where] if where else [] -%}
    {%- if scope is not none and not keys -%}
        {%- do conditions.append('scoped.' ~ scope) -%}
    {%- endif -%}
    {%- for bound in _key_lower_bounds(relation, keys, scope) -%}
        {%- do conditions.append('scoped.' ~ bound) -%}
    {%- endfor -%}
    {%- set rows -%}
        select scoped.* from {{ relation }} as scoped
        {% if keys %}
            {#- a join to the distinct keys, not `exists`: engines decorrelate `exists`
                into a join that hashes the whole table -#}
            inner join (
                select distinct {{ keys | join(', ') }} from {{ relation }}
                where {{ scope }}
            ) as touched
                on
                {%- for key in keys %}
                    {{ 'and ' if not loop.first }}touched.{{ key }} = scoped.{{ key }}
                {%- endfor %}
        {% endif %}
        {% if conditions %}
            where {{ conditions | join(' and ') }}
        {%- endif %}
    {%- endset -%}
    {#- no alias: tests alias their model themselves (`from {{ model }} as bars`) -#}
    {{ return('(' ~ rows ~ ')') }}
{%- endmacro %}


{#- `built_at >= <this run>` when `test_node` may check only this run's rows, else none. -#}
{% macro test_scope_predicate(test_node) -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set metadata = test_node.get('test_metadata') or {} -%}
    {#- a comparison of two whole tables (the TA-Lib oracle) is never scoped -#}
    {%- if metadata.get('name') in ['matches_talib_oracle'] -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set tested = graph.nodes.get(test_node.get('attached_node') or '') -%}
    {{ return('built_at >= ' ~ built_at() if _scoped_to_this_run(tested) else none) }}
{%- endmacro %}


{#-
    For singular tests: the earliest `date_column` among the rows of model `model_name`
    this run wrote ('9999-12-31' when it wrote none), or none when the test must read
    the whole model.
-#}
{% macro changed_since(model_name, date_column) -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set node = graph.nodes.get('model.' ~ project_name ~ '.' ~ model_name) -%}
    {%- if not _scoped_to_this_run(node) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set result = run_query(
        'select min(' ~ date_column ~ ') from ' ~ ref(model_name)
        ~ ' where built_at >= ' ~ built_at()
    ) -%}
    {%- set first = result.rows[0][0] if result.rows | length > 0 else none -%}
    {{ return('9999-12-31' if first is none else first | string) }}
{%- endmacro %}


{% macro _scoped_to_this_run(node) -%}
    {%- if not execute or flags.FULL_REFRESH or flags.WHICH != 'build' or node is none -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set scope = var('test_scope', 'changed') -%}
    {%- if scope not in ['changed', 'all'] -%}
        {{ exceptions.raise_compiler_error(
            "var test_scope must be 'changed' or 'all', not '" ~ scope ~ "'"
        ) }}
    {%- endif -%}
    {%- if scope == 'all' or not _built_this_run(node) -%}
        {{ return(false) }}
    {%- endif -%}
    {%- if node.config.get('materialized') == 'view' -%}
        {%- for parent_id in node.depends_on.get('nodes', []) -%}
            {%- set parent = graph.nodes.get(parent_id) -%}
            {%- if parent is not none and 'built_at' in parent.get('columns', {})
                and not _built_this_run(parent) -%}
                {{ return(false) }}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(true) }}
{%- endmacro %}


{#-
    Whether `relation` (the model `node`) holds rows from before this run. On Iceberg
    (Athena, Trino) a table's snapshots answer it from metadata: one committed before the
    run started means the table was not created by this run (reading the table for an
    older built_at would scan files until one row turns up). Elsewhere, or for a view,
    the rows answer it. A table whose older snapshots were expired reads as new: its key
    tests then check the whole table, which costs more but misses nothing.
-#}
{% macro _has_older_rows(relation, node) -%}
    {%- set materialized = node.config.get('materialized') if node is not none else none -%}
    {%- if target.type != 'duckdb' and materialized in ['table', 'incremental'] -%}
        {%- set snapshots = (
            ('"' ~ relation.database ~ '".' if relation.database else '')
            ~ '"' ~ relation.schema ~ '"."' ~ relation.identifier ~ '$snapshots"'
        ) -%}
        {%- set older = run_query(
            'select 1 from ' ~ snapshots ~ " where committed_at < cast('"
            ~ run_started_at.strftime('%Y-%m-%d %H:%M:%S.%f')
            ~ " UTC' as timestamp(6) with time zone) limit 1"
        ) -%}
    {%- else -%}
        {%- set older = run_query(
            'select 1 from ' ~ relation ~ ' where built_at < ' ~ built_at() ~ ' limit 1'
        ) -%}
    {%- endif -%}
    {{ return(older.rows | length > 0) }}
{%- endmacro %}


{% macro _built_this_run(node) -%}
    {{ return('built_at' in node.get('columns', {}) and node.unique_id in selected_resources) }}
{%- endmacro %}


{#-
    `key >= <smallest value among this run's rows>` for each date or number key: a row
    sharing a key with this run's rows is at or above it, and the constant lets the
    engine skip the older files before the join (a join's dynamic filter may come too
    late to prune the scan).
-#}
{% macro _key_lower_bounds(relation, keys, scope) -%}
    {%- if not keys -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set minimums = [] -%}
    {%- for key in keys -%}
        {%- do minimums.append('min(' ~ key ~ ')') -%}
    {%- endfor -%}
    {%- set result = run_query(
        'select ' ~ minimums | join(', ') ~ ' from ' ~ relation ~ ' where ' ~ scope
    ) -%}
    {%- set bounds = [] -%}
    {%- for key in keys -%}
        {%- set first = result.rows[0] if result.rows | length > 0 else [] -%}
        {%- set value = first[loop.index0] if first | length > loop.index0 else none -%}
        {%- if value is number and value is not sameas true and value is not sameas false -%}
            {%- do bounds.append(key ~ ' >= ' ~ value) -%}
        {%- elif value is not none and value is not string and value.isoformat is defined
            and value.hour is not defined -%}
            {%- do bounds.append(key ~ " >= date '" ~ value.isoformat() ~ "'") -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(bounds) }}
{%- endmacro %}


{#- The key a uniqueness test checks, or [] for any other test. -#}
{% macro test_key_columns(test_node) -%}
    {%- set metadata = test_node.get('test_metadata') -%}
    {%- if metadata is none -%}
        {{ return([]) }}
    {%- elif metadata.name == 'unique_combination_of_columns' -%}
        {{ return(metadata.kwargs.get('combination_of_columns')) }}
    {%- elif metadata.name == 'unique' -%}
        {{ return([metadata.kwargs.get('column_name')]) }}
    {%- endif -%}
    {{ return([]) }}
{%- endmacro %}
