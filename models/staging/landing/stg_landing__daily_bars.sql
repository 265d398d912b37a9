{%- set scope_start = landing_scope_start() -%}

with

source as (

    select * from {{ source('landing', 'raw_ohlcv') }}
    {% if scope_start is not none -%}
        where cast(ingest_date as varchar) >= '{{ scope_start }}'
    {%- endif %}

),

typed as (

    select
        cast(symbol as varchar) as symbol,
        cast(date as date) as date,
        cast(open as double) as open,
        cast(high as double) as high,
        cast(low as double) as low,
        cast(close as double) as close,
        cast(volume as double) as volume,
        cast(vwap as double) as vwap,
        cast(transactions as bigint) as transactions,
        cast(source as varchar) as source,
        cast(ingested_at as timestamp(6)) as ingested_at,
        cast(batch_id as varchar) as batch_id,
        cast(batch_row as integer) as batch_row,
        cast(invalid_reason as varchar) as landed_reason,
        {% if scope_start is not none -%}
            cast('{{ scope_start }}' as date)
        {%- else -%}
            cast(null as date)
        {%- endif %} as landing_scope_start
    from source

),

checked as (

    -- Landing's verdict, and for a row it let through, its value rules again: a file
    -- landed before a rule existed must not put a value Silver cannot hold into Bronze.
    select
        *,
        {{ landing_invalid_reason('landed_reason') }} as invalid_reason
    from typed

),

ranked as (

    -- Latest landing wins among the valid versions of a bar; an invalid correction never
    -- replaces a good bar, it is kept as evidence instead.
    select
        *,
        invalid_reason is null as is_valid,
        row_number() over (
            partition by symbol, date, invalid_reason is null
            order by ingested_at desc, batch_id desc, batch_row desc
        ) as version_rank
    from checked

),

final as (

    select
        symbol,
        date,
        open,
        high,
        low,
        close,
        volume,
        vwap,
        transactions,
        source,
        ingested_at,
        batch_id,
        batch_row,
        is_valid,
        invalid_reason,
        landing_scope_start
    from ranked
    where not is_valid or version_rank = 1

)

select * from final
