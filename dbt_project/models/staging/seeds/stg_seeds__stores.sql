with source as (
    select * from {{ ref('stores') }}
),

renamed as (
    select
        trim(store_id) as store_id,
        name as store_name,
        region,
        city,
        format as store_format,
        opened_on
    from source
)

select * from renamed
