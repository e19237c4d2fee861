with source as (
    select * from {{ source('shop', 'customers') }}
),

{# Ids pass untrimmed, as ingest stored them: dbt_project/README.md, "Staging keeps ids as stored". -#}
renamed as (
    select
        customer_id,
        registered_at,
        lead_id,
        {{ normalise_email('email') }} as email,
        {{ normalise_phone('phone') }} as phone,
        {{ normalise_loyalty_card('loyalty_card_id') }} as loyalty_card_id,
        nullif({{ scrub_contact_data('trim(region)') }}, '') as region,
        _ingested_at
    from source
)

select * from renamed
