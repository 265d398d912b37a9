{#- Evening Doji Star: a long white candle, a doji whose body gaps up, then a not-short
    black candle closing well into the first body (below c2 - body * penetration, default
    0.3). -100. -#}
{% macro cdleveningdojistar(penetration=0.3) -%}
    {{ cdleveningstar_signal('BodyDoji', penetration) }}
{%- endmacro %}
