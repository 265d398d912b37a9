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

    {{ one_row_per_column('rejected_counts', values_by_column.keys() | list, 'rejected_rows') }}

)

select * from per_column
where rejected_rows > 0
{% endtest %}


{% macro _sql_literals(values) -%}
    {%- for value in values -%}
        {{ "'" ~ value ~ "'" if value is string else value }}{{ ', ' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}


{#-
    The one row of `counts` (a column per checked column) as one row per column:
    column_name and `value_name`. `counts` is read once: a union of one select per
    column would make engines that inline CTEs (Trino, Athena) scan the model once per
    column.
-#}
{% macro one_row_per_column(counts, columns, value_name) -%}
    select
        checked.column_name,
        case checked.column_name
            {%- for column in columns %}
                when '{{ column }}' then {{ counts }}.{{ column }}
            {%- endfor %}
        end as {{ value_name }}
    from {{ counts }}
    cross join (
        values
        {%- for column in columns %}
            ('{{ column }}'){{ ',' if not loop.last }}
        {%- endfor %}
    ) as checked (column_name)
{%- endmacro %}
