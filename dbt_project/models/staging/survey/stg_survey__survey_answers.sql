with source as (
    select * from {{ source('survey', 'survey_answers') }}
),

{#- Ids pass as ingest stored them (trimmed, blank = NULL). A trim() here would hide
    their length statistics from DuckDB, which then joins and groups them as whole
    strings instead of packed integers: out of memory at 50M orders under 512MB
    (docs/benchmarks.md). -#}
renamed as (
    select
        answer_id,
        answered_at,
        lower(trim(survey)) as survey,
        lower(trim(question)) as question,
        score,
        order_id,
        store_id,
        customer_id,
        {{ normalise_email('email') }} as email,
        {{ normalise_phone('phone') }} as phone,
        {{ normalise_loyalty_card('loyalty_card_id') }} as loyalty_card_id,
        nullif(trim(comment), '') as comment,
        _ingested_at
    from source
)

select * from renamed
