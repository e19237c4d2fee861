{#- Survey components by answered_at period and dimension (store, region of the
    store, sales_channel and fulfilment of the answer's order).
    Period-incremental (macros/period_incremental.sql). A run recomputes the
    periods of: answers (re)loaded since the last run; answers whose order was
    (re)built since (its store, channel, fulfilment); days whose number of
    answers differs from the stored one (an answer whose date was corrected
    left its old day). A changed store region (seed) recomputes every period. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='replace_periods',
        on_schema_change='append_new_columns',
        pre_hook="{{ keep_join_sides(true) }}",
        post_hook="{{ keep_join_sides(false) }}",
    )
}}
{%- set dimensions = ['store', 'region', 'sales_channel', 'fulfilment'] %}
{%- set ready = period_incremental_ready() %}

with answers as {{ inlined() }} (
    select * from {{ ref('stg_survey__survey_answers') }}
),

orders as {{ inlined() }} (
    select * from {{ ref('int_orders_enriched') }}
),

stores as (
    select * from {{ ref('stg_seeds__stores') }}
),

stores_state as (
    select {{ stores_fingerprint() }} as fingerprint
    from stores
),

{% if ready %}
watermark as (
    select
        coalesce(max(_source_loaded_until), cast('1900-01-01' as timestamp)) as answers_until,
        coalesce(max(_orders_loaded_until), cast('1900-01-01' as timestamp)) as orders_until
    from {{ this }}
),

rebuild_all as (
    select {{ stores_region_changed() }} as yes
),

-- every answer is nps (nps_answers) or csi / cx (scored_answers)
stored_day_answers as (
    select period_start as affected_day, nps_answers + scored_answers as answers
    from {{ this }}
    where grain = 'day' and dimension = 'all'
),

current_day_answers as (
    select cast(answered_at as date) as affected_day, count(*) as answers
    from answers
    group by cast(answered_at as date)
),

changed_days as (
    select cast(answered_at as date) as affected_day
    from answers
    where _ingested_at > (select answers_until from watermark)
    union
    select cast(answers.answered_at as date) as affected_day
    from answers
    inner join orders
        on answers.order_id = orders.order_id
    where orders._ingested_at > (select orders_until from watermark)
    union
    select coalesce(current_day_answers.affected_day, stored_day_answers.affected_day) as affected_day
    from current_day_answers
    full outer join stored_day_answers
        on current_day_answers.affected_day = stored_day_answers.affected_day
    where coalesce(current_day_answers.answers, 0) <> coalesce(stored_day_answers.answers, 0)
    union
    select cast(answered_at as date) as affected_day
    from answers
    where (select yes from rebuild_all)
    union
    select affected_day
    from stored_day_answers
    where (select yes from rebuild_all)
),

{{ affected_periods_ctes('changed_days') }},
{% endif %}

answered as (
    select
        {{ period_start('day', 'answers.answered_at') }} as answered_on,
        coalesce(answers.store_id, orders.store_id, '(none)') as store,
        coalesce(orders.sales_channel, '(none)') as sales_channel,
        coalesce(orders.fulfilment, '(none)') as fulfilment,
        answers.survey,
        answers.score
    from answers
    left join orders
        on answers.order_id = orders.order_id
    {%- if ready %}
    where {{ in_affected_periods('answers.answered_at') }}
    {%- endif %}
),

-- One row per day and distinct value set, with how many answers it stands
-- for: the 15 grouping sets below then aggregate far fewer rows than the
-- answers (over every answer they run out of a small memory limit at large
-- scales, docs/benchmarks.md). Every component is a sum, so summing
-- the counted rows gives the same totals.
answer_counts as (
    select
        answered_on,
        store,
        sales_channel,
        fulfilment,
        survey,
        score,
        count(*) as answer_count
    from answered
    group by
        answered_on,
        store,
        sales_channel,
        fulfilment,
        survey,
        score
),

base as (
    select
        {{ period_columns('answer_counts.answered_on') }},
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

aggregated as (
    select
        {{ metric_grouping_keys(dimensions) }},
        {{ survey_component_sums(weight='answer_count') }}
    from base
    group by {{ metric_grouping_sets(dimensions) }}  -- noqa: PRS
)

{{ select_with_period_markers(
    'aggregated',
    'select max(_ingested_at) from answers',
    ready,
    extra_state={
        '_orders_loaded_until': '(select max(_ingested_at) from orders)',
        '_stores_fingerprint': '(select fingerprint from stores_state)',
    },
) }}
