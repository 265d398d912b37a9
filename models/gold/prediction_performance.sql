{{ config(
    partitioned_by=date_partitioning('date'),
    properties=date_partitioning_properties('date'),
) }}

{#-
    How the predictions did, one row per (date, model_version), once their label horizon
    has passed: only realized labels count, and a date with none yet has no row. Top k
    is by rank_in_day among every symbol the model scored that day; the market is the
    equal-weighted mean over the scored symbols whose label is realized.
-#}
{% set top_k = var('prediction_top_k', 10) %}

with

predictions as (

    select * from {{ ref('predictions') }}

),

realized as (

    select
        date,
        model_version,
        rank_in_day <= {{ top_k }} as is_top_k,
        realized_forward_return,
        cast(realized_up as double) as realized_up,
        case when is_correct then 1e0 else 0e0 end as is_correct
    from predictions
    where realized_up is not null

),

scored as (

    select
        date,
        model_version,
        count(*) as symbols_scored
    from predictions
    group by date, model_version

),

performance as (

    select
        date,
        model_version,
        count(*) as symbols_realized,
        avg(is_correct) as hit_rate,
        count(case when is_top_k then 1 end) as top_k_realized,
        avg(case when is_top_k then realized_forward_return end) as top_k_forward_return,
        avg(case when is_top_k then realized_up end) as top_k_hit_rate,
        avg(realized_forward_return) as market_forward_return,
        avg(realized_up) as market_up_rate
    from realized
    group by date, model_version

),

final as (

    select
        performance.date,
        performance.model_version,
        scored.symbols_scored,
        performance.symbols_realized,
        performance.hit_rate,
        {{ top_k }} as top_k,
        performance.top_k_realized,
        performance.top_k_forward_return,
        performance.top_k_hit_rate,
        performance.market_forward_return,
        performance.market_up_rate,
        performance.top_k_forward_return
        - performance.market_forward_return as top_k_excess_return
    from performance
    inner join scored
        on
            performance.date = scored.date
            and performance.model_version = scored.model_version

)

select * from final
