-- noqa: disable=LT02
-- (sqlfluff cannot indent the SQL that Jinja loops over columns or keys generate here)
{#-
    The SQL candlestick patterns equal TA-Lib's (the `oracle` Python model) on every
    row and cell, except a proven tie: a cell may differ from TA-Lib at its default
    factors only where TA-Lib, with every factor moved by 1e-9 either way, gives the SQL
    value (oracle/talib_candles.py). Fails with each row only one side has, and each row
    with a cell that is neither, naming the patterns.
-#}
{% test matches_talib_oracle(model, oracle) %}
{%- set patterns = candle_pattern_names() %}
with

ours as (

    select symbol, date, {{ patterns | join(', ') }} from {{ model }}

),

talib as (

    select * from {{ oracle }}
    where factor_scale = 1

),

moved_lower as (

    select * from {{ oracle }}
    where factor_scale < 1

),

moved_upper as (

    select * from {{ oracle }}
    where factor_scale > 1

),

compared as (

    select
        coalesce(ours.symbol, talib.symbol) as symbol,
        coalesce(ours.date, talib.date) as date,
        case
            when ours.symbol is null then 'only in {{ oracle.identifier }}'
            when talib.symbol is null then 'only in {{ model.identifier }}'
        end as side,
        ''
        {%- for pattern in patterns %}
            || case
                when ours.{{ pattern }} not in (
                    talib.{{ pattern }},
                    coalesce(moved_lower.{{ pattern }}, talib.{{ pattern }}),
                    coalesce(moved_upper.{{ pattern }}, talib.{{ pattern }})
                ) then '{{ pattern }} '
                else ''
            end
        {%- endfor %} as differing_patterns
    from ours
    full outer join talib
        on ours.symbol = talib.symbol and ours.date = talib.date
    left join moved_lower
        on ours.symbol = moved_lower.symbol and ours.date = moved_lower.date
    left join moved_upper
        on ours.symbol = moved_upper.symbol and ours.date = moved_upper.date

)

select * from compared
where side is not null or differing_patterns != ''
{% endtest %}
