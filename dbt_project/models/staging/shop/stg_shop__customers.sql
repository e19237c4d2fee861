with source as (
    select * from {{ source('shop', 'customers') }}
),

renamed as (
    select
        trim(customer_id) as customer_id,
        registered_at,
        nullif(trim(lead_id), '') as lead_id,
        {{ normalise_email('email') }} as email,
        {{ normalise_phone('phone') }} as phone,
        {{ normalise_loyalty_card('loyalty_card_id') }} as loyalty_card_id,
        nullif(trim(region), '') as region,
        _ingested_at
    from source
)

select * from renamed
