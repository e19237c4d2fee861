with source as (
    select * from {{ source('survey', 'survey_answers') }}
),

renamed as (
    select
        trim(answer_id) as answer_id,
        answered_at,
        lower(trim(survey)) as survey,
        lower(trim(question)) as question,
        score,
        nullif(trim(order_id), '') as order_id,
        nullif(trim(store_id), '') as store_id,
        nullif(trim(customer_id), '') as customer_id,
        {{ normalise_email('email') }} as email,
        {{ normalise_phone('phone') }} as phone,
        {{ normalise_loyalty_card('loyalty_card_id') }} as loyalty_card_id,
        nullif(trim(comment), '') as comment,
        _ingested_at
    from source
)

select * from renamed
