{#- One row per spend day, channel and campaign, with whether the channel is
    bought (is_paid: the spend CAC, ROAS and ROI divide by). The semantic
    layer's spend measures read it (models/semantic/). -#}

with spend as (
    select * from {{ ref('stg_ads__marketing_spend') }}
),

channels as (
    select * from {{ ref('stg_seeds__channels') }}
),

final as (
    select
        spend.spend_date,
        spend.channel,
        spend.campaign,
        coalesce(channels.is_paid, false) as is_paid,
        spend.spend,
        spend.impressions,
        spend.clicks
    from spend
    left join channels
        on spend.channel = channels.channel
)

select * from final
