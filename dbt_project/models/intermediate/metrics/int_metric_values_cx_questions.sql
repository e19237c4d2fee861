{#- cx_score_{question}: mean score per cx question, per grain and dimension
    (store, region of the store, sales_channel / fulfilment of the order). New
    questions appear without code changes. -#}
{%- set dimensions = ['store', 'region', 'sales_channel', 'fulfilment'] %}
{%- set prefix = metric_entry('cx_score_').metric_prefix %}

with answers as (
    select * from {{ ref('stg_survey__survey_answers') }}
    where survey = 'cx'
),

orders as {{ inlined() }} (
    select * from {{ ref('int_orders_enriched') }}
),

stores as (
    select * from {{ ref('stg_seeds__stores') }}
),

answered as (
    select
        {{ period_start('day', 'answers.answered_at') }} as answered_on,
        answers.question,
        coalesce(answers.store_id, orders.store_id, '(none)') as store,
        coalesce(orders.sales_channel, '(none)') as sales_channel,
        coalesce(orders.fulfilment, '(none)') as fulfilment,
        answers.score
    from answers
    left join orders
        on answers.order_id = orders.order_id
),

-- One row per day and distinct value set, with how many answers it stands
-- for, so that the 15 grouping sets below aggregate far fewer rows than the
-- answers (as in int_metric_survey_aggregated: over every answer they run out
-- of a small memory limit at large scales).
answer_counts as (
    select
        answered_on,
        question,
        store,
        sales_channel,
        fulfilment,
        score,
        count(*) as answer_count
    from answered
    group by
        answered_on,
        question,
        store,
        sales_channel,
        fulfilment,
        score
),

base as (
    select
        {{ period_columns('answer_counts.answered_on') }},
        answer_counts.question,
        answer_counts.store,
        coalesce(stores.region, '(none)') as region,
        answer_counts.sales_channel,
        answer_counts.fulfilment,
        answer_counts.score,
        answer_counts.answer_count
    from answer_counts
    left join stores
        on answer_counts.store = stores.store_id
),

aggregated as (
    select
        {{ metric_grouping_keys(dimensions) }},
        question,
        sum(answer_count) as answers,
        sum(score * answer_count) as score_sum
    from base
    group by
        question,
        {{ metric_grouping_sets(dimensions) }}  -- noqa: PRS
),

final as (
    select
        grain,
        period_start,
        dimension,
        dimension_value,
        concat('{{ prefix }}', question) as metric,
        cast(score_sum as double) as numerator,
        cast(answers as double) as denominator,
        {{ safe_divide('score_sum', 'answers') }} as value,
        cast(answers as bigint) as sample_size,
        'none' as maturity
    from aggregated
)

select * from final
