with

tickers as (

    select * from {{ ref('ticker_reference') }}

),

daily as (

    select * from {{ ref('ohlcv_daily') }}

),

trading as (

    select
        symbol,
        min(date) as first_trade_date,
        max(date) as last_trade_date,
        count(*) as sessions_traded
    from daily
    group by symbol

),

final as (

    select
        coalesce(tickers.symbol, trading.symbol) as symbol,
        tickers.name,
        tickers.primary_exchange as exchange,
        tickers.ticker_type,
        tickers.is_active,
        coalesce(tickers.list_date, trading.first_trade_date) as listed_date,
        tickers.delisted_date,
        trading.first_trade_date,
        trading.last_trade_date,
        coalesce(trading.sessions_traded, 0) as sessions_traded,
        tickers.symbol is not null as has_reference_data,
        tickers.as_of_date as reference_as_of_date
    from tickers
    full outer join trading on tickers.symbol = trading.symbol

)

select * from final
