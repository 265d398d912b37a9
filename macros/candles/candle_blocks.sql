{#-
    Building blocks of the candlestick patterns, for the candle `k` bars before the output
    row (k = 0 is the row itself). They name columns of candle_frame(), where each is
    computed once per row in TA-Lib's own floating-point order (ta_utility.h); o<k>, h<k>,
    l<k>, c<k> are that candle's open, high, low and close as doubles.
-#}

{#- abs(C - O) -#}
{% macro cdl_real_body(k) -%}
    real_body_{{ k }}
{%- endmacro %}

{#- H - L -#}
{% macro cdl_high_low(k) -%}
    high_low_{{ k }}
{%- endmacro %}

{#- The top of the real body, max(O, C). -#}
{% macro cdl_top(k) -%}
    top_{{ k }}
{%- endmacro %}

{#- The bottom of the real body, min(O, C). -#}
{% macro cdl_bottom(k) -%}
    bottom_{{ k }}
{%- endmacro %}

{#- H - max(O, C) -#}
{% macro cdl_upper_shadow(k) -%}
    upper_shadow_{{ k }}
{%- endmacro %}

{#- min(O, C) - L -#}
{% macro cdl_lower_shadow(k) -%}
    lower_shadow_{{ k }}
{%- endmacro %}

{#- White: C >= O, so a doji with C = O is white, as in TA_CANDLECOLOR. -#}
{% macro cdl_white(k) -%}
    (c{{ k }} >= o{{ k }})
{%- endmacro %}

{#- Black: C < O strictly. -#}
{% macro cdl_black(k) -%}
    (c{{ k }} < o{{ k }})
{%- endmacro %}

{#- The colour as TA-Lib's +1 (white) / -1 (black), for signed outputs. -#}
{% macro cdl_color(k) -%}
    color_{{ k }}
{%- endmacro %}

{#-
    True unless the candles have the given colours, e.g. {2: 'white', 1: 'black'}: one
    test of the `colours` bit set (bit k = candle k is white, see candle_frame), so a
    pattern's colour sequence rejects most rows before any other condition is evaluated
    (each further condition then runs only on the rows still in question). A candle
    before the series start reads as black; the pattern's lookback rejects those rows.
-#}
{% macro cdl_colours_differ(colours) -%}
    {%- set mask = namespace(bits=0, white=0) -%}
    {%- for k, colour in colours.items() -%}
        {%- if k > candle_block_depth() or colour not in ('white', 'black') -%}
            {{ exceptions.raise_compiler_error('no colour bit for candle ' ~ k ~ ': ' ~ colour) }}
        {%- endif -%}
        {%- set mask.bits = mask.bits + 2 ** k -%}
        {%- if colour == 'white' -%}{%- set mask.white = mask.white + 2 ** k -%}{%- endif -%}
    {%- endfor -%}
    ({{ bitwise_and('colours', mask.bits) }} != {{ mask.white }})
{%- endmacro %}

{#- The real body of candle `later` lies wholly above that of candle `earlier`. -#}
{% macro cdl_body_gap_up(later, earlier) -%}
    ({{ cdl_bottom(later) }} > {{ cdl_top(earlier) }})
{%- endmacro %}

{#- The real body of candle `later` lies wholly below that of candle `earlier`. -#}
{% macro cdl_body_gap_down(later, earlier) -%}
    ({{ cdl_top(later) }} < {{ cdl_bottom(earlier) }})
{%- endmacro %}

{#- Whole-candle gap up: the low of `later` is above the high of `earlier`. -#}
{% macro cdl_gap_up(later, earlier) -%}
    (l{{ later }} > h{{ earlier }})
{%- endmacro %}

{#- Whole-candle gap down: the high of `later` is below the low of `earlier`. -#}
{% macro cdl_gap_down(later, earlier) -%}
    (h{{ later }} < l{{ earlier }})
{%- endmacro %}

{#-
    The range a candle setting averages (TA_CANDLERANGE) for the candle of the row itself.
    Shadows is the sum of the two shadows, not (H - L) - body, which rounds differently.
-#}
{% macro cdl_candle_range(range) -%}
    {%- if range == 'real_body' -%}
        abs(c0 - o0)
    {%- elif range == 'high_low' -%}
        h0 - l0
    {%- elif range == 'shadows' -%}
        (h0 - greatest(o0, c0)) + (least(o0, c0) - l0)
    {%- else -%}
        {{ exceptions.raise_compiler_error('unknown candle range ' ~ range) }}
    {%- endif -%}
{%- endmacro %}

{#- The sum of `range` over the `period` candles before candle `k`: a candle_frame() column. -#}
{% macro cdl_range_sum(range, period, k) -%}
    {{ range }}_sum{{ period }}_{{ k }}
{%- endmacro %}
