{#- True for a number that is neither infinite nor NaN; null for null. -#}
{% macro is_finite(expression) -%}
    {{ return(adapter.dispatch('is_finite', 'condvest')(expression)) }}
{%- endmacro %}

{% macro default__is_finite(expression) -%}
    is_finite({{ expression }})
{%- endmacro %}

{% macro duckdb__is_finite(expression) -%}
    isfinite({{ expression }})
{%- endmacro %}
