{#- Growth and acquisition components by registration period and dimension
    (channel, campaign, region of the customer). Activation counts belong to the
    registration period, so a recent period's activation can still rise. -#}
{%- set dimensions = ['channel', 'campaign', 'region'] %}

with customers as (
    select * from {{ ref('int_customers_attributed') }}
),

activation as (
    select * from {{ ref('int_customers_activated') }}
),

base as (
    select
        {{ period_columns('customers.registered_on') }},
        customers.channel,
        {{ campaign_key('customers.channel', 'customers.campaign') }} as campaign,
        coalesce(customers.region, '(none)') as region,
        customers.channel_group,
        customers.is_paid,
        customers.is_acquired,
        customers.revenue_in_window,
        customers.gross_margin_in_window,
        activation.is_activated,
        activation.days_to_first_revenue_order
    from customers
    inner join activation
        on customers.customer_id = activation.customer_id
),

aggregated as (
    select
        {{ metric_grouping_keys(dimensions) }},
        count(*) as new_customers,
        sum(case when is_activated then 1 else 0 end) as activated_customers,
        percentile_cont(0.5) within group (
            order by case when is_activated then days_to_first_revenue_order end
        ) as median_days_to_activation,
        sum(case when channel_group = 'referral' then 1 else 0 end) as referral_customers,
        sum(case when is_acquired then 1 else 0 end) as acquired_customers,
        sum(case when is_paid then 1 else 0 end) as paid_acquired_customers,
        sum(case when is_paid then revenue_in_window else 0 end) as paid_revenue_in_window,
        sum(case when is_paid then gross_margin_in_window else 0 end) as paid_gross_margin_in_window
    from base
    group by {{ metric_grouping_sets(dimensions) }}
)

select * from aggregated
