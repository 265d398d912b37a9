with

source as (

    select * from {{ source('ml', 'predictions') }}

),

typed as (

    select
        cast(symbol as varchar) as symbol,
        cast(date as date) as date,
        cast(model_version as varchar) as model_version,
        cast(probability_up as double) as probability_up,
        cast(predicted_up as integer) as predicted_up,
        cast(rank_in_day as integer) as rank_in_day,
        cast(predicted_at as timestamp(6)) as predicted_at,
        cast(batch_id as varchar) as batch_id
    from source

),

ranked as (

    -- a date predicted again by the same model: the newest batch wins
    select
        *,
        row_number() over (
            partition by symbol, date, model_version
            order by predicted_at desc, batch_id desc
        ) as batch_rank
    from typed

),

latest as (

    select
        symbol,
        date,
        model_version,
        probability_up,
        predicted_up,
        rank_in_day,
        predicted_at,
        batch_id
    from ranked
    where batch_rank = 1

)

select * from latest
