with source as (
    select * from {{ source('shop', 'order_items') }}
),

renamed as (
    select
        trim(order_id) as order_id,
        line_no,
        trim(sku) as sku,
        nullif(trim(category), '') as category,
        quantity,
        unit_price,
        unit_cost,
        _ingested_at
    from source
)

select * from renamed
