{#-
    The first session_index an incremental resample has to read: the start of the
    earliest bucket that Bronze rows newer than `cursor` (the model's cursor_lookback)
    touch or that is still incomplete.

    Computed before the model runs and written into its SQL as a constant, so the engine
    skips every older row group of Bronze by its min/max statistics instead of joining all
    of history against the touched buckets. Returns a bound past every session when
    nothing needs recomputing, none when the engine gave no answer (no bound).
-#}
{% macro resample_first_session(sessions, cursor) %}
    {%- set query -%}
        select min(first_session) from (
            select min({{ integer_divide('session_index', sessions) }}) * {{ sessions }}
                as first_session
            from {{ ref('ohlcv_daily') }}
            where ingested_at > {{ cursor }}
            union all
            select min(bucket_number) * {{ sessions }} as first_session
            from {{ this }}
            where not is_complete
        ) as starts
    {%- endset -%}
    {{ return(session_bound(query)) }}
{% endmacro %}
