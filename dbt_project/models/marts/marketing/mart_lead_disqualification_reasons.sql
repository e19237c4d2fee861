{#- Leads by disqualification reason per channel and month (of created_at):
    sales' answer to "why were these leads junk". Duplicates are not counted. -#}
{{ config(alias='lead_disqualification_reasons') }}

with leads as (
    select * from {{ ref('int_leads_flagged') }}
    where not is_duplicate
),

by_reason as (
    select
        channel,
        {{ period_start('month', 'created_on') }} as month,
        disqualified_reason,
        count(*) as disqualified_leads
    from leads
    where disqualified_reason is not null
    group by
        channel,
        {{ period_start('month', 'created_on') }},
        disqualified_reason
),

channel_months as (
    select
        channel,
        {{ period_start('month', 'created_on') }} as month,
        count(*) as leads
    from leads
    group by
        channel,
        {{ period_start('month', 'created_on') }}
),

final as (
    select
        by_reason.channel,
        by_reason.month,
        by_reason.disqualified_reason,
        cast(by_reason.disqualified_leads as bigint) as disqualified_leads,
        cast(channel_months.leads as bigint) as leads,
        {{ safe_divide('by_reason.disqualified_leads', 'channel_months.leads') }} as share_of_leads,
        {{ safe_divide('by_reason.disqualified_leads', 'sum(by_reason.disqualified_leads) over (partition by by_reason.channel, by_reason.month)') }}
            as share_of_disqualified,
        cast(rank() over (
            partition by by_reason.channel, by_reason.month
            order by by_reason.disqualified_leads desc
        ) as integer) as reason_rank
    from by_reason
    inner join channel_months
        on by_reason.channel = channel_months.channel
        and by_reason.month = channel_months.month
)

select * from final
