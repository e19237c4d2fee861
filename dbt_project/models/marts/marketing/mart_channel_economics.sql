{#- Channel economics per channel, campaign and month: the marketing metrics of
    metric_values (grain month, dimension campaign) side by side. Spend with no
    campaign is campaign '(none)'. cac, roas, channel_roi, ltv_cac and payback
    cover paid channels (null for organic, referral, offline and direct). -#}
{{ config(alias='channel_economics') }}

with metric_values as (
    select * from {{ ref('mart_metric_values') }}
    where grain = 'month'
        and dimension = 'campaign'
),

spend as (
    select * from {{ ref('stg_ads__marketing_spend') }}
),

leads as {{ inlined() }} (
    select * from {{ ref('int_leads_flagged') }}
),

customers as {{ inlined() }} (
    select * from {{ ref('int_customers_attributed') }}
),

campaigns as (
    select channel, campaign from spend
    union
    select channel, campaign from leads
    union
    select channel, campaign from customers
    where is_acquired
),

campaign_keys as (
    select
        channel,
        campaign,
        {{ campaign_key('channel', 'campaign') }} as campaign_key
    from campaigns
),

pivoted as (
    select
        dimension_value as campaign_key,
        period_start as month,
        {%- for m in ['marketing_spend', 'leads', 'cpl', 'qualified_leads', 'qualification_rate', 'cpql',
                      'acquired_customers', 'cac', 'roas', 'channel_roi', 'ltv_cac', 'payback_months'] %}
        max(case when metric = '{{ m }}' then value end) as {{ m }},
        {%- endfor %}
        max(case when metric = 'roas' then numerator end) as attributed_revenue,
        max(case when metric = 'channel_roi' then numerator end) as attributed_gross_margin_less_spend,
        min(case when is_complete then 1 else 0 end) = 1 as is_complete
    from metric_values
    where metric in (
        'marketing_spend', 'leads', 'cpl', 'qualified_leads', 'qualification_rate', 'cpql',
        'acquired_customers', 'cac', 'roas', 'channel_roi', 'ltv_cac', 'payback_months'
    )
    group by
        dimension_value,
        period_start
),

final as (
    select
        campaign_keys.channel,
        campaign_keys.campaign,
        pivoted.month,
        coalesce(pivoted.marketing_spend, 0) as spend,
        cast(coalesce(pivoted.leads, 0) as bigint) as leads,
        pivoted.cpl,
        cast(coalesce(pivoted.qualified_leads, 0) as bigint) as qualified_leads,
        pivoted.qualification_rate,
        pivoted.cpql,
        cast(coalesce(pivoted.acquired_customers, 0) as bigint) as acquired_customers,
        pivoted.cac,
        pivoted.roas,
        pivoted.channel_roi,
        pivoted.ltv_cac,
        cast(pivoted.payback_months as integer) as payback_months,
        pivoted.attributed_revenue,
        pivoted.attributed_gross_margin_less_spend,
        pivoted.is_complete
    from pivoted
    inner join campaign_keys
        on pivoted.campaign_key = campaign_keys.campaign_key
)

select * from final
