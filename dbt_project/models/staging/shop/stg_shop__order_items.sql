with source as (
    select * from {{ source('shop', 'order_items') }}
),

{# Ids pass untrimmed, as ingest stored them: dbt_project/README.md, "Staging keeps ids as stored". -#}
renamed as (
    select
        order_id,
        line_no,
        trim(sku) as sku,
        nullif({{ scrub_contact_data('trim(category)') }}, '') as category,
        quantity,
        unit_price,
        unit_cost,
        _ingested_at
    from source
)

select * from renamed
