with source as (
    select * from {{ source('contact_centre', 'support_contacts') }}
),

renamed as (
    select
        trim(contact_id) as contact_id,
        contacted_at,
        lower(trim(channel)) as contact_channel,
        nullif(trim(reason), '') as reason,
        nullif(trim(order_id), '') as order_id,
        nullif(trim(customer_id), '') as customer_id,
        _ingested_at
    from source
)

select * from renamed
