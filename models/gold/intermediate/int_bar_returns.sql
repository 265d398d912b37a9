{#-
    One row per symbol, bar size and bar: the bar's log return from open to close. The
    six resamples in one relation, so gold.ml_features has one parent for its previous-
    bar features instead of six. A view (the folder's default): ml_features' constant
    bounds on bar_sessions and bucket_number reach each resample's own scan.
-#}
{% set bar_sizes = resample_sizes() %}

with

{% for n in bar_sizes %}
    bars_{{ n }}d as (

        select * from {{ ref('ohlcv_' ~ n ~ 'd') }}

    ),

{% endfor %}

bar_returns as (

    {% for n in bar_sizes -%}
        select
            symbol,
            cast({{ n }} as integer) as bar_sessions,
            bucket_number,
            ln(close / open) as bar_return
        from bars_{{ n }}d
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

select * from bar_returns
