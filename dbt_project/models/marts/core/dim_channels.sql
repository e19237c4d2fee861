{#- One row per channel of seeds/channels.csv, plus 'direct' (customers with no lead). -#}

with channels as (
    select * from {{ ref('stg_seeds__channels') }}
),

direct as (
    select
        'direct' as channel,
        'Direct (no lead)' as channel_name,
        'direct' as channel_group,
        false as is_paid
),

final as (
    select channel, channel_name, channel_group, is_paid from channels
    union all
    select channel, channel_name, channel_group, is_paid from direct
    where not exists (
        select 1 from channels
        where channels.channel = 'direct'
    )
)

select * from final
