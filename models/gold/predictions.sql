{{ config(
    partitioned_by=date_partitioning('date'),
    properties=date_partitioning_properties('date'),
) }}

with

predictions as (

    select * from {{ ref('stg_ml__predictions') }}

),

features as (

    select * from {{ ref('ml_features') }}

),

symbols as (

    select * from {{ ref('dim_symbol') }}

),

final as (

    select
        predictions.symbol,
        symbols.name as symbol_name,
        predictions.date,
        predictions.model_version,
        predictions.probability_up,
        predictions.predicted_up,
        predictions.rank_in_day,
        -- known once the label horizon has passed; null until then
        features.forward_return as realized_forward_return,
        features.label_up as realized_up,
        case
            when features.label_up is not null
                then predictions.predicted_up = features.label_up
        end as is_correct,
        predictions.predicted_at,
        predictions.batch_id
    from predictions
    left join features
        on
            predictions.symbol = features.symbol
            and predictions.date = features.date
            -- a constant: the features of days before the first prediction are not read
            and features.date >= {{ earliest_date(ref('stg_ml__predictions'), 'date') }}
    left join symbols on predictions.symbol = symbols.symbol

)

select * from final
