{#- Fails for rows whose prices cannot describe one bar: low <= open, close <= high, low > 0. -#}
{% test ohlc_consistent(model) %}
select *
from {{ model }}
where
    low <= 0
    or high < low
    or open < low
    or open > high
    or close < low
    or close > high
    or volume < 0
{% endtest %}
