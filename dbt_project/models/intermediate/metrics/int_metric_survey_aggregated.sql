{#- Survey components by answered_at period and dimension (store, region of the
    store, sales_channel and fulfilment of the answer's order). -#}
{%- set dimensions = ['store', 'region', 'sales_channel', 'fulfilment'] %}

with answers as (
    select * from {{ ref('stg_survey__survey_answers') }}
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
        coalesce(answers.store_id, orders.store_id, '(none)') as store,
        coalesce(stores.region, '(none)') as region,
        coalesce(orders.sales_channel, '(none)') as sales_channel,
        coalesce(orders.fulfilment, '(none)') as fulfilment,
        answers.survey,
        answers.score,
        {{ nps_class('answers.score') }} as nps_class
    from answers
    left join orders
        on answers.order_id = orders.order_id
    left join stores
        on coalesce(answers.store_id, orders.store_id) = stores.store_id
),

aggregated as (
    select
        {{ metric_grouping_keys(dimensions) }},
        {{ survey_component_sums() }}
    from base
    group by {{ metric_grouping_sets(dimensions) }}
)

select * from aggregated
