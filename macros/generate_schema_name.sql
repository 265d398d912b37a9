{#-
    Schemas are exactly staging, bronze, silver, gold (no `main_silver`). On Athena an
    optional prefix from DBT_SCHEMA_PREFIX keeps dev and prod Glue
    databases apart.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- else -%}
        {{ env_var('DBT_SCHEMA_PREFIX', '') ~ (custom_schema_name | trim) }}
    {%- endif -%}
{%- endmacro %}
