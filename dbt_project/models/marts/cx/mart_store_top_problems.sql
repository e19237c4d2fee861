{#- "Top problems": per store and month, the cx questions ranked by their
    low-score share among detractors' answers, i.e. what the unhappy customers
    complain about most, so a store knows what to fix first.
    A detractor's answers are the cx answers of the same survey response as an
    nps answer scoring <= nps_detractor_max_score. A response is one respondent
    (the order, else the resolved customer, else the hashed contact) at one
    store on one day: the survey tool sends all questions of a response together.
    Anonymous answers (no order, customer or contact) cannot be linked and are
    left out. -#}
{{ config(alias='store_top_problems') }}

with answers as {{ inlined() }} (
    select * from {{ ref('fct_survey_answers') }}
),

orders as {{ inlined() }} (
    select * from {{ ref('int_orders_enriched') }}
),

{# An answer's store: its own, else its order's (macro answers_with_store); an
    answer with neither cannot be ranked for a store. -#}
stored as (
    {{ answers_with_store('answers', 'orders') }}
),

keyed as (
    select
        answer_id,
        survey,
        question,
        score,
        nps_class,
        is_low_score,
        answered_on,
        answer_store_id as store_id,
        coalesce(
            order_id,
            customer_id,
            email_hash,
            phone_hash,
            loyalty_card_hash
        ) as respondent_key
    from stored
),

detractor_responses as (
    select distinct
        store_id,
        answered_on,
        respondent_key
    from keyed
    where survey = 'nps'
        and nps_class = 'detractor'
        and respondent_key is not null
),

detractor_answers as (
    select
        keyed.store_id,
        {{ period_start('month', 'keyed.answered_on') }} as month,
        keyed.question,
        keyed.respondent_key,
        keyed.answered_on,
        keyed.score,
        keyed.is_low_score
    from keyed
    inner join detractor_responses
        on keyed.store_id = detractor_responses.store_id
        and keyed.answered_on = detractor_responses.answered_on
        and keyed.respondent_key = detractor_responses.respondent_key
    where keyed.survey = 'cx'
),

aggregated as (
    select
        store_id,
        month,
        question,
        cast(count(*) as bigint) as detractor_answers,
        cast(sum(case when is_low_score then 1 else 0 end) as bigint) as low_score_answers,
        cast(sum(score) as double) as score_sum
    from detractor_answers
    group by
        store_id,
        month,
        question
),

final as (
    select
        store_id,
        month,
        question,
        detractor_answers,
        low_score_answers,
        {{ safe_divide('low_score_answers', 'detractor_answers') }} as low_score_share,
        {{ safe_divide('score_sum', 'detractor_answers') }} as mean_score,
        cast(rank() over (
            partition by store_id, month
            order by {{ safe_divide('low_score_answers', 'detractor_answers') }} desc, low_score_answers desc
        ) as integer) as problem_rank,
        (detractor_answers < {{ var('cx_min_respondents') }}) as is_small_sample
    from aggregated
)

select * from final
