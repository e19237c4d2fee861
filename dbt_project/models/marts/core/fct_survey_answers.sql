{#- One row per survey answer, with the respondent resolved to a customer and
    contact data only as keyed hashes. The free-text comment is not published
    (it may contain PII): only has_comment. counted_store_id is the store the
    store metrics count the answer for (its own, else its order's), as in
    int_metric_survey_aggregated; only answers without a store are joined to
    their orders (macro answers_with_store says why). -#}

with answers as {{ inlined() }} (
    select * from {{ ref('stg_survey__survey_answers') }}
),

respondents as {{ inlined() }} (
    select * from {{ ref('int_survey_respondents_resolved') }}
),

order_stores as (
    select orders.order_id, orders.store_id
    from {{ ref('int_orders_enriched') }} as orders
    where orders.order_id in (
        select answers.order_id
        from answers
        where answers.store_id is null
    )
),

final as (
    select
        answers.answer_id,
        answers.answered_at,
        cast(answers.answered_at as date) as answered_on,
        cast({{ iso_day_of_week('cast(answers.answered_at as date)') }} as integer) as answered_iso_dow,
        answers.survey,
        answers.question,
        cast(answers.score as integer) as score,
        case when answers.survey = 'nps' then {{ nps_class('answers.score') }} end as nps_class,
        (answers.survey in ('csi', 'cx') and {{ is_low_score('answers.score') }}) as is_low_score,
        answers.order_id,
        answers.store_id,
        coalesce(answers.store_id, order_stores.store_id) as counted_store_id,
        respondents.customer_id,
        respondents.resolution_method,
        {{ pii_hash('answers.email') }} as email_hash,
        {{ pii_hash('answers.phone') }} as phone_hash,
        {{ pii_hash('answers.loyalty_card_id') }} as loyalty_card_hash,
        (answers.comment is not null) as has_comment
    from answers
    inner join respondents
        on answers.answer_id = respondents.answer_id
    left join order_stores
        on answers.store_id is null
        and answers.order_id = order_stores.order_id
)

select * from final
