{#-
    Long format: one row per (row of `relation`, column of `columns`), with the column's
    name in `name_column` and its value in `value_column`, beside the `keep` columns.
    Trino zips parallel arrays in UNNEST; DuckDB has UNPIVOT.
-#}
{% macro unpivot(relation, keep, columns, name_column, value_column) -%}
    {%- set implementation = adapter.dispatch('unpivot', 'condvest') -%}
    {{ return(implementation(relation, keep, columns, name_column, value_column)) }}
{%- endmacro %}

{% macro default__unpivot(relation, keep, columns, name_column, value_column) -%}
    select
        unpivoted.{{ keep | join(', unpivoted.') }},
        cells.{{ name_column }},
        cells.{{ value_column }}
    from {{ relation }} as unpivoted
    cross join unnest(
        array[{% for column in columns %}'{{ column }}'{{ ', ' if not loop.last }}{% endfor %}],
        array[{% for column in columns %}unpivoted.{{ column }}{{ ', ' if not loop.last }}{% endfor %}]
    ) as cells ({{ name_column }}, {{ value_column }})
{%- endmacro %}

{% macro duckdb__unpivot(relation, keep, columns, name_column, value_column) -%}
    select
        {{ keep | join(', ') }},
        {{ name_column }},
        {{ value_column }}
    from (
        unpivot (select {{ (keep + columns) | join(', ') }} from {{ relation }})
        on {{ columns | join(', ') }}
        into name {{ name_column }} value {{ value_column }}
    ) as cells
{%- endmacro %}
