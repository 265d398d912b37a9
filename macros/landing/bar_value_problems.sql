-- noqa: disable=LT02
{#-
    The value rules of ingestion/bars.py, again in SQL, for a landing row that says it is
    valid: files landed before a rule existed, or written by another tool, must not put a
    value into Bronze that the Silver sums cannot hold. The ';'-joined codes of the rules
    the row breaks (the same codes as at landing), or null. `relation` qualifies the
    columns ('' for none).
-#}
{% macro bar_value_problems(relation='') -%}
    {%- set q = relation ~ '.' if relation else '' -%}
    {%- set numbers = ['open', 'high', 'low', 'close', 'volume', 'vwap', 'transactions'] -%}
    nullif(concat_ws(
        ';',
        case when
            {%- for column in numbers %}
                not {{ is_finite('cast(' ~ q ~ column ~ ' as double)') }}
                {%- if not loop.last %} or{% endif %}
            {%- endfor %}
            then 'non_finite_value'
        end,
        case when
            greatest({{ q }}open, {{ q }}high, {{ q }}low, {{ q }}close) > 1e9
            or {{ q }}vwap > 1e9
            or {{ q }}volume > 1e15
            or {{ q }}transactions < 0
            or {{ q }}transactions > 1e12
            then 'value_out_of_range'
        end,
        case when {{ q }}vwap < {{ q }}low or {{ q }}vwap > {{ q }}high
            then 'vwap_outside_range'
        end
    ), '')
{%- endmacro %}
