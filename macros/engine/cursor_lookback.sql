{#-
    The incremental cursor of a model, moved back by a safety window. Two ingestion
    batches can land out of ingested_at order (a slow writer finishes after a fast one);
    re-reading the last hour makes such a batch count. Re-reading is harmless: the upsert
    replaces rows with the same latest values. An empty model (built before anything had
    landed) has no cursor yet: everything is new.
-#}
{% macro cursor_lookback(cursor_column, relation) -%}
    (
        select
            coalesce(
                {{ dbt.dateadd('minute', -1 * (var('cursor_lookback_minutes', 60) | int), 'max(' ~ cursor_column ~ ')') }},
                cast('1900-01-01 00:00:00' as timestamp)
            )
        from {{ relation }}
    )
{%- endmacro %}
