{#- Harami Cross: a long candle, then a doji inside its body. The opposite of the first
    candle's colour: +-100 when strictly inside, +-80 when one end of the bodies is
    equal. -#}
{% macro cdlharamicross() -%}
    {{ cdlharami_signal('BodyDoji') }}
{%- endmacro %}
