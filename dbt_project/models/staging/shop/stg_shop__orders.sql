with source as (
    select * from {{ source('shop', 'orders') }}
),

renamed as (
    select
        trim(order_id) as order_id,
        trim(customer_id) as customer_id,
        ordered_at,
        lower(trim(status)) as status,
        lower(trim(sales_channel)) as sales_channel,
        nullif(trim(store_id), '') as store_id,
        nullif(lower(trim(fulfilment)), '') as fulfilment,
        promised_at,
        delivered_at,
        coalesce(nullif(upper(trim(currency)), ''), '{{ var("reporting_currency") | upper }}') as currency,
        _ingested_at
    from source
)

select * from renamed
