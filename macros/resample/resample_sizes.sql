{#- The resamples' bar sizes in sessions (the Fibonacci numbers 3 to 34): one model each,
    models/silver/ohlcv_<n>d.sql. -#}
{% macro resample_sizes() -%}
    {{ return([3, 5, 8, 13, 21, 34]) }}
{%- endmacro %}
