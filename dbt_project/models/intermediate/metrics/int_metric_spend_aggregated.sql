{#- Marketing spend components by spend_date period and channel / campaign. -#}
{%- set dimensions = ['channel', 'campaign'] %}

with spend as (
    select * from {{ ref('stg_ads__marketing_spend') }}
),

channels as (
    select * from {{ ref('stg_seeds__channels') }}
),

base as (
    select
        {{ period_columns('spend.spend_date') }},
        spend.channel,
        {{ campaign_key('spend.channel', 'spend.campaign') }} as campaign,
        spend.spend,
        coalesce(channels.is_paid, false) as is_paid,
        spend.impressions,
        spend.clicks
    from spend
    left join channels
        on spend.channel = channels.channel
),

aggregated as (
    select
        {{ metric_grouping_keys(dimensions) }},
        sum(spend) as marketing_spend,
        sum(case when is_paid then spend else 0 end) as paid_marketing_spend,
        sum(impressions) as impressions,
        sum(clicks) as clicks
    from base
    group by {{ metric_grouping_sets(dimensions) }}  -- noqa: PRS
)

select * from aggregated
