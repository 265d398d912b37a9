{#-
    The model and `compare_model` hold the same rows over the columns of `compare_model`:
    every row missing on either side (a multiset difference both ways) is a failure,
    reported with its side.
-#}
{% test equal_rowsets(model, compare_model) %}

{%- set columns = adapter.get_columns_in_relation(compare_model) | map(attribute='name') %}
{%- set column_list = columns | join(', ') %}

with

actual as (

    select {{ column_list }} from {{ model }}

),

expected as (

    select {{ column_list }} from {{ compare_model }}

),

missing as (

    select 'only in ' || '{{ compare_model.identifier }}' as side, *
    from (select * from expected except all select * from actual) as rows_missing

),

extra as (

    select 'only in ' || '{{ model.identifier }}' as side, *
    from (select * from actual except all select * from expected) as rows_extra

),

final as (

    select * from missing
    union all
    select * from extra

)

select * from final

{% endtest %}
