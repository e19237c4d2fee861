{#- Order segments that metric_values does not hold, for explaining a change:
    every pair of store, region, sales_channel, fulfilment, channel (the
    customer's acquisition channel, 'direct' without a lead) and
    customer_type ('new' for a customer's first revenue order, else
    'returning'), and those last two alone; per explain grain (var
    explain_grains). The same order dimensions and components as
    int_metric_orders_aggregated, so a segment's rows add up to its totals. -#}
{%- set dimensions = order_dimensions() + ['channel', 'customer_type'] %}
{%- set components = ['revenue', 'cogs', 'revenue_orders', 'orders_placed', 'delivered_with_promise', 'delivered_on_time'] %}

with orders as {{ inlined() }} (
    select * from {{ ref('int_orders_enriched') }}
),

customers as {{ inlined() }} (
    select * from {{ ref('stg_shop__customers') }}
),

attributed as (
    select * from {{ ref('int_customers_attributed') }}
),

activated as (
    select * from {{ ref('int_customers_activated') }}
),

stores as (
    select * from {{ ref('stg_seeds__stores') }}
),

order_rows as (
    select
        orders.ordered_on,
        {{ order_dimension_columns() }},
        coalesce(attributed.channel, '(none)') as channel,
        case
            when orders.is_revenue_order and orders.ordered_at = activated.first_revenue_order_at then 'new'
            else 'returning'
        end as customer_type,
        orders.is_revenue_order,
        orders.revenue,
        orders.cogs,
        orders.is_delivered_with_promise,
        orders.is_on_time
    from orders
    {{ order_dimension_joins() }}
    left join attributed
        on orders.customer_id = attributed.customer_id
    left join activated
        on orders.customer_id = activated.customer_id
),

-- one row per day and value set first: the grouping sets then read a few
-- thousand rows per day instead of every order
order_days as (
    select
        ordered_on,
        {{ dimensions | join(', ') }},
        count(*) as orders_placed,
        sum(case when is_revenue_order then 1 else 0 end) as revenue_orders,
        sum(revenue) as revenue,
        sum(cogs) as cogs,
        sum(case when is_delivered_with_promise then 1 else 0 end) as delivered_with_promise,
        sum(case when is_on_time then 1 else 0 end) as delivered_on_time
    from order_rows
    group by
        ordered_on,
        {{ dimensions | join(', ') }}
),

base as (
    select
        {{ period_columns('ordered_on', explain_grains()) }},
        {{ dimensions | join(', ') }},
        {{ components | join(', ') }}
    from order_days
),

summed as (
    select
        {{ segment_grouping_keys(dimensions) }},
        {%- for c in components %}
        sum({{ c }}) as {{ c }}{{ ',' if not loop.last }}
        {%- endfor %}
    from base
    group by {{ segment_grouping_sets(dimensions, singles=['channel', 'customer_type']) }}  -- noqa: PRS
)

{{ segment_metric_rows('summed', components) }}
