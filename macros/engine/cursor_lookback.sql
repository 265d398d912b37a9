{#-
    The incremental cursor of a model, moved back by a safety window, as a timestamp
    literal. Two ingestion batches can land out of ingested_at order (a slow writer
    finishes after a fast one); re-reading the last hour makes such a batch count.
    Re-reading is harmless: the upsert replaces rows with the same latest values. An empty
    model (built before anything had landed) has no cursor yet: everything is new.

    Read before the model runs and written into its SQL as a constant, not as a subquery:
    `ingested_at > <constant>` lets the engine skip every file and row group whose
    ingested_at statistics are older, where a subquery's value is known only once the
    query runs, after the files to read were chosen.
-#}
{% macro cursor_lookback(cursor_column, relation) -%}
    {%- set minutes = var('cursor_lookback_minutes', 60) | int -%}
    {%- if '__dbt__cte__' in relation | string -%}
        {#- a unit test's given `this` is a CTE of its own query: read it there -#}
        {{ return(
            '(select coalesce('
            ~ dbt.dateadd('minute', -1 * minutes, 'max(' ~ cursor_column ~ ')')
            ~ ", cast('1900-01-01 00:00:00' as timestamp)) from " ~ relation ~ ')'
        ) }}
    {%- endif -%}
    {%- set cursor = latest_timestamp(cursor_column, relation) if execute else none -%}
    {%- if cursor is none -%}
        {{ return("cast('1900-01-01 00:00:00' as timestamp)") }}
    {%- endif -%}
    {%- set start = cursor - modules.datetime.timedelta(minutes=minutes) -%}
    {{ return("cast('" ~ start.strftime('%Y-%m-%d %H:%M:%S.%f') ~ "' as timestamp(6))") }}
{%- endmacro %}


{#-
    max(`column`) of `relation` as a datetime, or none when it is empty (or the engine
    gives no answer, as a mocked one does). Asked of the last week first, then the last
    quarter, two years, and all: engines read a column's maximum from the files, not from
    their statistics, but they skip every file whose statistics end before a constant
    bound, so the usual answer (a batch landed in the last days) costs the newest files.
-#}
{% macro latest_timestamp(column, relation, column_type='timestamp(6)') -%}
    {%- for days in [7, 92, 732, none] -%}
        {%- set since = none if days is none else (
            run_started_at - modules.datetime.timedelta(days=days)
        ).strftime('%Y-%m-%d %H:%M:%S.%f' if column_type != 'date' else '%Y-%m-%d') -%}
        {%- set result = run_query(
            'select max(' ~ column ~ ') from ' ~ relation
            ~ ('' if since is none else
                ' where ' ~ column ~ " >= cast('" ~ since ~ "' as " ~ column_type ~ ")")
        ) -%}
        {%- set first = result.rows[0] if result.rows | length > 0 else [] -%}
        {%- set latest = first[0] if first | length > 0 else none -%}
        {%- if latest is string -%}
            {#- some adapters return timestamps and dates as text -#}
            {%- set latest = modules.datetime.datetime.fromisoformat(latest[:26]) -%}
        {%- endif -%}
        {%- if latest is not none or first | length == 0 -%}
            {{ return(latest) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(none) }}
{%- endmacro %}
