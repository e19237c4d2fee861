{#- Identity resolution of survey respondents: the answer's customer_id when the
    survey tool knows it, else the customer with the same normalised email,
    else phone, else loyalty card. When several customers share a contact, the
    smallest customer_id wins (deterministic; shared contacts are rare). Lookups
    are pre-aggregated to one row per contact so the joins cannot fan out. -#}

with answers as {{ inlined() }} (
    select * from {{ ref('stg_survey__survey_answers') }}
),

customers as {{ inlined() }} (
    select * from {{ ref('stg_shop__customers') }}
),

by_email as (
    select email, min(customer_id) as customer_id
    from customers
    where email is not null
    group by email
),

by_phone as (
    select phone, min(customer_id) as customer_id
    from customers
    where phone is not null
    group by phone
),

by_loyalty_card as (
    select loyalty_card_id, min(customer_id) as customer_id
    from customers
    where loyalty_card_id is not null
    group by loyalty_card_id
),

resolved as (
    select
        answers.answer_id,
        coalesce(
            answers.customer_id,
            by_email.customer_id,
            by_phone.customer_id,
            by_loyalty_card.customer_id
        ) as customer_id,
        case
            when answers.customer_id is not null then 'customer_id'
            when by_email.customer_id is not null then 'email'
            when by_phone.customer_id is not null then 'phone'
            when by_loyalty_card.customer_id is not null then 'loyalty_card'
            else 'unresolved'
        end as resolution_method
    from answers
    left join by_email
        on answers.email = by_email.email
    left join by_phone
        on answers.phone = by_phone.phone
    left join by_loyalty_card
        on answers.loyalty_card_id = by_loyalty_card.loyalty_card_id
)

select * from resolved
