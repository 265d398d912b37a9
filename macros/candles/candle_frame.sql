-- sqlfluff:exclude_rules:LT02
{#-
    The window sums the patterns read: for each averaged (range, period) of
    candle_settings(), the candle offsets k it is needed for (0..deepest). Hikkake-Mod's
    confirmation reaches the Near average of a pattern bar 3 back (k = 5).
-#}
{% macro candle_sum_depths() -%}
    {{ return({
        ('real_body', 10): 4,
        ('high_low', 10): 3,
        ('high_low', 5): 5,
        ('shadows', 10): 2,
    }) }}
{%- endmacro %}


{#-
    How many earlier bars any output row depends on: the oldest candle inside the
    deepest window sum. The frame carries that many previous candles per row, and an
    incremental run reads that many bars of a symbol before the rows it recomputes.
-#}
{% macro candle_history_bars() -%}
    {%- set reach = [] -%}
    {%- for key, deepest in candle_sum_depths().items() -%}
        {%- do reach.append(key[1] + deepest) -%}
    {%- endfor -%}
    {{ return(reach | max) }}
{%- endmacro %}


{#- Candles back from the row (0..4) with top, bottom, shadow and colour columns. -#}
{% macro candle_block_depth() -%}
    {{ return(4) }}
{%- endmacro %}


{#-
    The columns every pattern reads, from `inputs` (symbol, date, o0, h0, l0, c0 as
    doubles, plus the `passthrough` columns), each computed once per row:
    - bar_number: bars of the symbol before the row in `inputs`;
    - o<k>, h<k>, l<k>, c<k>, real_body_<k>, high_low_<k>, shadows_<k> for the candle k
      bars back (k = 0 .. history bars);
    - top_<k>, bottom_<k>, upper_shadow_<k>, lower_shadow_<k>, color_<k> (+1 white, -1
      black) for k = 0 .. block depth; colours, a bit set with bit k set when candle k is
      white (cdl_colours_differ);
    - <range>_sum<period>_<k>: a setting's range summed over the `period` candles before
      candle k, and <setting>_<k>, the setting's average for candle k (cdl_avg).

    Rows are counted, not days: TA-Lib counts array positions, so a missing session is
    simply not in the series. One window pass lags each earlier candle as a whole row
    value: on DuckDB one lag per offset costs about what one lag per price does, and a
    framed SUM costs about ten lags (25M rows). The window sums are then plain additions
    of the lagged candles' ranges, oldest first as TA-Lib's initial sum adds them; a sum
    of exactly representable values is the same in any order.
-#}
{% macro candle_frame(inputs, passthrough=[]) -%}
    {%- set history = candle_history_bars() -%}
    {%- set series = 'partition by symbol order by date' -%}
    {%- set fields = [
        ('o', 'o'), ('h', 'h'), ('l', 'l'), ('c', 'c'),
        ('real_body', 'rb'), ('high_low', 'hl'), ('shadows', 'sh'),
    ] -%}
    select
        *,
        {%- for name, s in candle_settings().items() %}
            {%- set deepest = candle_sum_depths().get((s.range, s.period), candle_block_depth()) %}
            {%- for k in range(deepest + 1) %}
        {{ cdl_avg_expression(name, k) }} as {{ cdl_avg(name, k) }}{{ ',' if not loop.last }}
            {%- endfor %}{{ ',' if not loop.last }}
        {%- endfor %}
    from (
        select
            *,
            {%- for key, deepest in candle_sum_depths().items() %}
                {%- set range_name, period = key %}
                {%- for k in range(deepest + 1) %}
            (
                {%- for j in range(k + period, k, -1) %}
                {{ range_name }}_{{ j }}{{ ' +' if not loop.last }}
                {%- endfor %}
            ) as {{ cdl_range_sum(range_name, period, k) }},
                {%- endfor %}
            {%- endfor %}
            {%- for k in range(candle_block_depth() + 1) %}
            greatest(o{{ k }}, c{{ k }}) as top_{{ k }},
            least(o{{ k }}, c{{ k }}) as bottom_{{ k }},
            h{{ k }} - greatest(o{{ k }}, c{{ k }}) as upper_shadow_{{ k }},
            least(o{{ k }}, c{{ k }}) - l{{ k }} as lower_shadow_{{ k }},
            {#- arithmetic, not CASE: a CASE per column costs several times more here #}
            cast(c{{ k }} >= o{{ k }} as integer) * 2 - 1 as color_{{ k }},
            {%- endfor %}
            (
                {%- for k in range(candle_block_depth() + 1) %}
                coalesce(cast(c{{ k }} >= o{{ k }} as integer), 0) * {{ 2 ** k }}
                {{- ' +' if not loop.last }}
                {%- endfor %}
            ) as colours
        from (
            select
                symbol,
                date,
                {%- for column in passthrough %}
                {{ column }},
                {%- endfor %}
                bar_number,
                {%- for column, _ in fields %}
                {{ column }}{{ '' if column | length == 1 else '_' }}0,
                {%- endfor %}
                {%- for k in range(1, history + 1) %}
                    {%- set outer = loop %}
                    {%- for column, field in fields %}
                candle_{{ k }}.{{ field }} as {{ column }}{{ '' if column | length == 1 else '_' }}{{ k }}
                {{- ',' if not (loop.last and outer.last) }}
                    {%- endfor %}
                {%- endfor %}
            from (
                select
                    *,
                    row_number() over ({{ series }}) - 1 as bar_number,
                    {%- for k in range(1, history + 1) %}
                    lag(
                        cast(
                            row(o0, h0, l0, c0, real_body_0, high_low_0, shadows_0)
                            as row(
                                o double, h double, l double, c double,
                                rb double, hl double, sh double
                            )
                        ),
                        {{ k }}
                    ) over ({{ series }}) as candle_{{ k }}{{ ',' if not loop.last }}
                    {%- endfor %}
                from (
                    select
                        *,
                        {{ cdl_candle_range('real_body') }} as real_body_0,
                        {{ cdl_candle_range('high_low') }} as high_low_0,
                        {{ cdl_candle_range('shadows') }} as shadows_0
                    from {{ inputs }}
                ) as candle_ranges
            ) as candle_window
        ) as candle_prices
    ) as candle_blocks
{%- endmacro %}
