{#-
    A sum of doubles that does not depend on the order rows arrive in. Parallel engines
    add floating-point values in any order, which changes the last bits from run to run;
    summing in decimal(38, 6) is exact, so a rebuild gives bit-identical results.
-#}
{% macro exact_sum(expression) -%}
    cast(sum(cast({{ expression }} as decimal(38, 6))) as double)
{%- endmacro %}
