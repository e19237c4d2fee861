{#- Revenue components by product category (item level), by ordered_at period.
    An order with lines in two categories counts as a revenue order of both. -#}
{%- set dimensions = ['category'] %}

with items as (
    select * from {{ ref('int_order_items_classified') }}
),

base as (
    select
        {{ period_columns('ordered_at') }},
        category,
        order_id,
        customer_id,
        revenue,
        cogs
    from items
    where is_revenue
),

aggregated as (
    select
        {{ metric_grouping_keys(dimensions) }},
        count(distinct order_id) as revenue_orders,
        count(distinct customer_id) as paying_customers,
        sum(revenue) as revenue,
        sum(cogs) as cogs
    from base
    group by {{ metric_grouping_sets(dimensions, with_all=false) }}
)

-- the 'all' rows come from int_metric_orders_aggregated
select * from aggregated
