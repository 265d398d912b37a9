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


{#- How many of the 61 pattern columns of `relation` satisfy `condition` (e.g. '> 0'). -#}
{% macro candle_signal_count(relation, condition) -%}
    {%- set terms = [] -%}
    {%- for pattern in candle_pattern_names() -%}
        {%- do terms.append(
            'case when ' ~ relation ~ '.' ~ pattern ~ ' ' ~ condition ~ ' then 1 else 0 end'
        ) -%}
    {%- endfor -%}
    ({{ terms | join(' + ') }})
{%- endmacro %}
