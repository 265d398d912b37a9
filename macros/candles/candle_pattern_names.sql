{#-
    The 61 TA-Lib candlestick functions, named as the columns of candlestick_patterns:
    TA-Lib's function name in lower case. The events view unpivots exactly these.
-#}
{% macro candle_pattern_names() -%}
    {{ return([
        'cdl2crows',
        'cdl3blackcrows',
        'cdl3inside',
        'cdl3linestrike',
        'cdl3outside',
        'cdl3starsinsouth',
        'cdl3whitesoldiers',
        'cdlabandonedbaby',
        'cdladvanceblock',
        'cdlbelthold',
        'cdlbreakaway',
        'cdlclosingmarubozu',
        'cdlconcealbabyswall',
        'cdlcounterattack',
        'cdldarkcloudcover',
        'cdldoji',
        'cdldojistar',
        'cdldragonflydoji',
        'cdlengulfing',
        'cdleveningdojistar',
        'cdleveningstar',
        'cdlgapsidesidewhite',
        'cdlgravestonedoji',
        'cdlhammer',
        'cdlhangingman',
        'cdlharami',
        'cdlharamicross',
        'cdlhighwave',
        'cdlhikkake',
        'cdlhikkakemod',
        'cdlhomingpigeon',
        'cdlidentical3crows',
        'cdlinneck',
        'cdlinvertedhammer',
        'cdlkicking',
        'cdlkickingbylength',
        'cdlladderbottom',
        'cdllongleggeddoji',
        'cdllongline',
        'cdlmarubozu',
        'cdlmatchinglow',
        'cdlmathold',
        'cdlmorningdojistar',
        'cdlmorningstar',
        'cdlonneck',
        'cdlpiercing',
        'cdlrickshawman',
        'cdlrisefall3methods',
        'cdlseparatinglines',
        'cdlshootingstar',
        'cdlshortline',
        'cdlspinningtop',
        'cdlstalledpattern',
        'cdlsticksandwich',
        'cdltakuri',
        'cdltasukigap',
        'cdlthrusting',
        'cdltristar',
        'cdlunique3river',
        'cdlupsidegap2crows',
        'cdlxsidegap3methods',
    ]) }}
{%- endmacro %}


{#- The SQL expression of one pattern: the macro named like it (macros/candles/patterns). -#}
{% macro candle_pattern(name) -%}
    {%- set pattern = context.get(name) -%}
    {%- if pattern is none -%}
        {{ exceptions.raise_compiler_error('no candlestick pattern macro named ' ~ name) }}
    {%- endif -%}
    {{ return(pattern()) }}
{%- endmacro %}


{#-
    The single-candle descriptors (doji, spinning top, long/short line, marubozu ...): their
    sign is the candle's colour, not a bullish or bearish call. The pattern catalog's
    is_descriptor column (seeds/pattern_catalog.csv) says the same; a test keeps them equal.
-#}
{% macro candle_descriptor_names() -%}
    {{ return([
        'cdlbelthold',
        'cdlclosingmarubozu',
        'cdldoji',
        'cdldragonflydoji',
        'cdlgravestonedoji',
        'cdlhighwave',
        'cdllongleggeddoji',
        'cdllongline',
        'cdlmarubozu',
        'cdlrickshawman',
        'cdlshortline',
        'cdlspinningtop',
        'cdltakuri',
    ]) }}
{%- endmacro %}


{#-
    How many of the directional pattern columns of `relation` (the 61 less the descriptors)
    satisfy `condition` (e.g. '> 0'): a doji is not a bullish signal.
-#}
{% macro candle_signal_count(relation, condition) -%}
    {%- set descriptors = candle_descriptor_names() -%}
    {%- set terms = [] -%}
    {%- for pattern in candle_pattern_names() if pattern not in descriptors -%}
        {%- do terms.append(
            'case when ' ~ relation ~ '.' ~ pattern ~ ' ' ~ condition ~ ' then 1 else 0 end'
        ) -%}
    {%- endfor -%}
    ({{ terms | join(' + ') }})
{%- endmacro %}
