{#- Morning Doji Star: a long black candle, a doji whose body gaps down, then a white
    candle (not short) closing above the first close by penetration (default 0.3) of its
    body. +100. -#}
{% macro cdlmorningdojistar(penetration=0.3) -%}
    {{ cdlmorningstar_signal('BodyDoji', penetration) }}
{%- endmacro %}
