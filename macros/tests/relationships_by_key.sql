-- noqa: disable=LT02
-- (sqlfluff cannot indent the SQL that Jinja loops over columns or keys generate here)
{#-
    Fails for every row of the model whose key (`columns`) has no row in `to`: dbt's
    relationships test on a composite key. An anti-join on the whole key, so a parent
    that is not unique on one of its columns costs a join, never a cross product.
-#}
{% test relationships_by_key(model, to, columns) %}
with

children as (

    select {{ columns | join(', ') }} from {{ model }}

),

parents as (

    select {{ columns | join(', ') }} from {{ to }}

)

select children.*
from children
where not exists (
    select 1
    from parents
    where
        {%- for column in columns %}
            {{ 'and ' if not loop.first }}parents.{{ column }} = children.{{ column }}
        {%- endfor %}
)
{% endtest %}
