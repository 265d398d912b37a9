with

source as (

    select * from {{ source('landing', 'raw_tickers') }}

),

typed as (

    select
        cast(symbol as varchar) as symbol,
        cast(name as varchar) as name,
        cast(market as varchar) as market,
        cast(locale as varchar) as locale,
        cast(primary_exchange as varchar) as primary_exchange,
        cast(type as varchar) as ticker_type,
        cast(active as boolean) as is_active,
        cast(currency_name as varchar) as currency_name,
        cast(cik as varchar) as cik,
        cast(composite_figi as varchar) as composite_figi,
        cast(share_class_figi as varchar) as share_class_figi,
        cast(list_date as date) as list_date,
        cast(delisted_date as date) as delisted_date,
        cast(last_updated_utc as timestamp(6)) as last_updated_at,
        cast(as_of_date as date) as as_of_date,
        cast(source as varchar) as source,
        cast(ingested_at as timestamp(6)) as ingested_at,
        cast(batch_id as varchar) as batch_id,
        cast(invalid_reason as varchar) as invalid_reason
    from source

),

ranked as (

    -- A reused ticker appears once as the delisted company and once as the live one:
    -- the newest snapshot wins, and inside it the active listing.
    select
        *,
        row_number() over (
            partition by symbol
            order by
                as_of_date desc,
                ingested_at desc,
                case when is_active then 0 else 1 end,
                last_updated_at desc nulls last,
                batch_id desc
        ) as recency_rank
    from typed

),

final as (

    select
        symbol,
        name,
        market,
        locale,
        primary_exchange,
        ticker_type,
        is_active,
        currency_name,
        cik,
        composite_figi,
        share_class_figi,
        list_date,
        delisted_date,
        last_updated_at,
        as_of_date,
        source,
        ingested_at,
        batch_id,
        invalid_reason is null as is_valid,
        invalid_reason
    from ranked
    where recency_rank = 1

)

select * from final
