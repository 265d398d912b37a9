{#-
    When this dbt invocation started (UTC), as a timestamp literal: the `built_at` of
    every row a model writes in this run. A daily build rewrites a few thousand rows of
    each incremental model; their `built_at` tells its tests which rows to check
    (see get_where_subquery).
-#}
{% macro built_at() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp(6))
{%- endmacro %}
