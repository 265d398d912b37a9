{{ config(materialized='table') }}

with

tickers as (

    select * from {{ ref('stg_landing__tickers') }}

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
        ingested_at
    from tickers
    where is_valid

)

select * from final
