-- noqa: disable=LT02
-- (sqlfluff cannot indent the SQL that Jinja loops over columns or keys generate here)
{#-
    Fails with one row per column holding a value outside its accepted list (and how
    many rows): dbt's accepted_values for many columns in one scan. Nulls pass, as in
    accepted_values; not_null_columns checks them.
-#}
{% test accepted_column_values(model, values_by_column) %}
with

rejected_counts as (

    select
        {%- for column, values in values_by_column.items() %}
            sum(
                case when {{ column }} not in ({{ _sql_literals(values) }}) then 1 else 0 end
            ) as {{ column }}
            {{- ',' if not loop.last }}
        {%- endfor %}
    from {{ model }}

),

per_column as (

    {%- for column in values_by_column %}
        select
            '{{ column }}' as column_name,
            {{ column }} as rejected_rows
        from rejected_counts
        {{ 'union all' if not loop.last }}
    {%- endfor %}

)

select * from per_column
where rejected_rows > 0
{% endtest %}


{% macro _sql_literals(values) -%}
    {%- for value in values -%}
        {{ "'" ~ value ~ "'" if value is string else value }}{{ ', ' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}
