{#- cx_score_{question}: mean score per cx question, per grain and dimension
    (store, region of the store, sales_channel / fulfilment of the order). New
    questions appear without code changes. -#}
{%- set dimensions = ['store', 'region', 'sales_channel', 'fulfilment'] %}

with answers as (
    select * from {{ ref('stg_survey__survey_answers') }}
    where survey = 'cx'
),

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

stores as (
    select * from {{ ref('stg_seeds__stores') }}
),

base as (
    select
        {{ period_columns('answers.answered_at') }},
        answers.question,
        coalesce(answers.store_id, orders.store_id, '(none)') as store,
        coalesce(stores.region, '(none)') as region,
        coalesce(orders.sales_channel, '(none)') as sales_channel,
        coalesce(orders.fulfilment, '(none)') as fulfilment,
        answers.score
    from answers
    left join orders
        on answers.order_id = orders.order_id
    left join stores
        on coalesce(answers.store_id, orders.store_id) = stores.store_id
),

aggregated as (
    select
        {{ metric_grouping_keys(dimensions) }},
        question,
        count(*) as answers,
        sum(score) as score_sum
    from base
    group by
        question,
        {{ metric_grouping_sets(dimensions) }}
),

final as (
    select
        grain,
        period_start,
        dimension,
        dimension_value,
        concat('cx_score_', question) as metric,
        cast(score_sum as double) as numerator,
        cast(answers as double) as denominator,
        {{ safe_divide('score_sum', 'answers') }} as value,
        cast(answers as bigint) as sample_size,
        'none' as maturity
    from aggregated
)

select * from final
