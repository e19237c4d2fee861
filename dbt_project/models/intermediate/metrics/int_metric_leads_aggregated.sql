{#- Lead components by period of created_at and channel / campaign. Leads the
    quality gate marked as duplicates are not counted. -#}
{%- set dimensions = ['channel', 'campaign'] %}

with leads as {{ inlined() }} (
    select * from {{ ref('int_leads_flagged') }}
),

base as (
    select
        {{ period_columns('created_at') }},
        channel,
        {{ campaign_key('channel', 'campaign') }} as campaign,
        is_qualified,
        is_converted
    from leads
    where not is_duplicate
),

aggregated as (
    select
        {{ metric_grouping_keys(dimensions) }},
        count(*) as leads,
        sum(case when is_qualified then 1 else 0 end) as qualified_leads,
        sum(case when is_converted then 1 else 0 end) as converted_leads
    from base
    group by {{ metric_grouping_sets(dimensions) }}  -- noqa: PRS
)

select * from aggregated
