with source as (
    select * from {{ ref('channels') }}
),

renamed as (
    select
        lower(trim(channel)) as channel,
        name as channel_name,
        lower(trim(channel_group)) as channel_group,
        coalesce(is_paid, false) as is_paid
    from source
)

select * from renamed
