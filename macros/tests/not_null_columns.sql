-- noqa: disable=LT02
-- (sqlfluff cannot indent the SQL that Jinja loops over columns or keys generate here)
{#-
    Fails with one row per listed column that holds nulls (and how many): dbt's
    not_null for many columns in one scan of the model instead of one query each.
-#}
{% test not_null_columns(model, columns) %}
with

null_counts as (

    select
        {%- for column in columns %}
            sum(case when {{ column }} is null then 1 else 0 end) as {{ column }}
            {{- ',' if not loop.last }}
        {%- endfor %}
    from {{ model }}

),

per_column as (

    {{ one_row_per_column('null_counts', columns, 'null_rows') }}

)

select * from per_column
where null_rows > 0
{% endtest %}
