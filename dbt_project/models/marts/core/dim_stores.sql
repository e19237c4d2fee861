{#- One row per store of seeds/stores.csv. -#}

with stores as (
    select * from {{ ref('stg_seeds__stores') }}
),

final as (
    select
        store_id,
        store_name,
        region,
        city,
        store_format,
        opened_on
    from stores
)

select * from final
