{#- Survey segments that metric_values does not hold, for explaining a change:
    every pair of store, region, sales_channel and fulfilment (store within
    region left out), per explain grain. The same answer dimensions and
    components as int_metric_survey_aggregated. -#}
{%- set dimensions = ['store', 'region', 'sales_channel', 'fulfilment'] %}
{%- set components = ['nps_answers', 'promoters', 'passives', 'detractors', 'csi_answers', 'csi_score_sum',
    'csat_answers', 'scored_answers', 'low_score_answers'] %}

with answers as {{ inlined() }} (
    select * from {{ ref('stg_survey__survey_answers') }}
),

orders as {{ inlined() }} (
    select * from {{ ref('int_orders_enriched') }}
),

stores as (
    select * from {{ ref('stg_seeds__stores') }}
),

answer_counts as (
    select
        {{ period_start('day', 'answers.answered_at') }} as answered_on,
        coalesce(answers.store_id, orders.store_id, '(none)') as store,
        coalesce(orders.sales_channel, '(none)') as sales_channel,
        coalesce(orders.fulfilment, '(none)') as fulfilment,
        answers.survey,
        answers.score,
        count(*) as answer_count
    from answers
    left join orders
        on answers.order_id = orders.order_id
    group by
        {{ period_start('day', 'answers.answered_at') }},
        coalesce(answers.store_id, orders.store_id, '(none)'),
        coalesce(orders.sales_channel, '(none)'),
        coalesce(orders.fulfilment, '(none)'),
        answers.survey,
        answers.score
),

base as (
    select
        {{ period_columns('answer_counts.answered_on', explain_grains()) }},
        answer_counts.store,
        coalesce(stores.region, '(none)') as region,
        answer_counts.sales_channel,
        answer_counts.fulfilment,
        answer_counts.survey,
        answer_counts.score,
        {{ nps_class('answer_counts.score') }} as nps_class,
        answer_counts.answer_count
    from answer_counts
    left join stores
        on answer_counts.store = stores.store_id
),

summed as (
    select
        {{ segment_grouping_keys(dimensions) }},
        {{ survey_component_sums(weight='answer_count') }}
    from base
    group by {{ segment_grouping_sets(dimensions) }}  -- noqa: PRS
)

{{ segment_metric_rows('summed', components) }}
