{#-
    The incremental cursor of a model, moved back by a safety window. Two ingestion
    batches can land out of ingested_at order (a slow writer finishes after a fast one);
    re-reading the last hour makes such a batch count. Re-reading is harmless: the upsert
    replaces rows with the same latest values.
-#}
{% macro cursor_lookback(cursor_column, relation) -%}
    (
        select {{ dbt.dateadd('minute', -1 * (var('cursor_lookback_minutes', 60) | int), 'max(' ~ cursor_column ~ ')') }}
        from {{ relation }}
    )
{%- endmacro %}
