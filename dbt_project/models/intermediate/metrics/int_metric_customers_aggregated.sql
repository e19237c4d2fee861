{#- Growth and acquisition components by registration period and dimension
    (channel, campaign, region of the customer). Activation counts belong to the
    registration period, so a recent period's activation can still rise. -#}
{%- set dimensions = ['channel', 'campaign', 'region'] %}

with customers as {{ inlined() }} (
    select * from {{ ref('int_customers_attributed') }}
),

activation as {{ inlined() }} (
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
        sum(case when channel_group = 'referral' then 1 else 0 end) as referral_customers,
        sum(case when is_acquired then 1 else 0 end) as acquired_customers,
        sum(case when is_paid then 1 else 0 end) as paid_acquired_customers,
        sum(case when is_paid then revenue_in_window else 0 end) as paid_revenue_in_window,
        sum(case when is_paid then gross_margin_in_window else 0 end) as paid_gross_margin_in_window
    from base
    group by {{ metric_grouping_sets(dimensions) }}  -- noqa: PRS
),

{# The median of days to activation, exact, without an ordered aggregate:
    percentile_cont keeps every group's values in memory and cannot spill, so a
    large scale runs out of memory (docs/benchmarks.md). Days are
    whole numbers, so count the customers per day value in each group (an
    aggregate that spills), then read the median off the running count: with
    n values sorted, percentile_cont(0.5) is the mean of the values at the
    0-based positions floor((n - 1) / 2) and ceil((n - 1) / 2). -#}
days_counted as (
    select
        {{ metric_grouping_keys(dimensions) }},
        days_to_first_revenue_order as days,
        count(*) as customers
    from base
    where is_activated
        and days_to_first_revenue_order is not null
    group by {{ metric_grouping_sets(dimensions, extra_columns=['days_to_first_revenue_order']) }}  -- noqa: PRS
),

days_running as (
    select
        grain,
        period_start,
        dimension,
        dimension_value,
        days,
        sum(customers) over (
            partition by grain, period_start, dimension, dimension_value
            order by days
            rows between unbounded preceding and current row
        ) as customers_up_to,
        sum(customers) over (partition by grain, period_start, dimension, dimension_value) as customers_all
    from days_counted
),

median_days as (
    select
        grain,
        period_start,
        dimension,
        dimension_value,
        (
            min(case when customers_up_to > floor((customers_all - 1) / 2.0) then days end)
            + min(case when customers_up_to > ceil((customers_all - 1) / 2.0) then days end)
        ) / 2.0 as median_days_to_activation
    from days_running
    group by
        grain,
        period_start,
        dimension,
        dimension_value
),

final as (
    select
        aggregated.grain,
        aggregated.period_start,
        aggregated.dimension,
        aggregated.dimension_value,
        aggregated.new_customers,
        aggregated.activated_customers,
        cast(median_days.median_days_to_activation as double) as median_days_to_activation,
        aggregated.referral_customers,
        aggregated.acquired_customers,
        aggregated.paid_acquired_customers,
        aggregated.paid_revenue_in_window,
        aggregated.paid_gross_margin_in_window
    from aggregated
    left join median_days
        on aggregated.grain = median_days.grain
        and aggregated.period_start = median_days.period_start
        and aggregated.dimension = median_days.dimension
        and aggregated.dimension_value = median_days.dimension_value
)

select * from final
