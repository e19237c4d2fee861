with source as (
    select * from {{ source('contact_centre', 'support_contacts') }}
),

{# Ids pass untrimmed, as ingest stored them: dbt_project/README.md, "Staging keeps ids as stored". -#}
renamed as (
    select
        contact_id,
        contacted_at,
        lower(trim(channel)) as contact_channel,
        nullif({{ scrub_contact_data('trim(reason)') }}, '') as reason,
        order_id,
        customer_id,
        _ingested_at
    from source
)

select * from renamed
