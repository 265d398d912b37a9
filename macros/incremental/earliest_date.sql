{#-
    min(`date_column`) of `relation` (where `condition` holds), as a date literal: a
    constant lower bound for reading another table keyed by date, written into the SQL
    before it runs so that the engine skips older files and row groups by their statistics
    (a join's dynamic filter may come too late to prune the scan). '9999-12-31' (read
    nothing) when no row qualifies; '1900-01-01' (read everything) when not executing or
    when the engine gives no answer.
-#}
{% macro earliest_date(relation, date_column, condition='true') %}
    {%- if not execute -%}
        {{ return("date '1900-01-01'") }}
    {%- endif -%}
    {%- set result = run_query(
        'select min(' ~ date_column ~ ') from ' ~ relation ~ ' where ' ~ condition
    ) -%}
    {#- an engine may answer with no row, or a row without columns (a mock): no bound -#}
    {%- set first = result.rows[0] if result.rows | length > 0 else [] -%}
    {%- if first | length == 0 -%}
        {{ return("date '1900-01-01'") }}
    {%- endif -%}
    {{ return("date '" ~ ('9999-12-31' if first[0] is none else first[0] | string)[:10] ~ "'") }}
{% endmacro %}
