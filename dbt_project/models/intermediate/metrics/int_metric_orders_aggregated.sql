{#- Order components of the metrics per grain and dimension (store, region,
    sales_channel, fulfilment), by the period of ordered_at. Region is the
    store's region for store orders, else the customer's region. -#}
{%- set dimensions = ['store', 'region', 'sales_channel', 'fulfilment'] %}

with orders as (
    select * from {{ ref('int_orders_enriched') }}
),

customers as (
    select * from {{ ref('stg_shop__customers') }}
),

stores as (
    select * from {{ ref('stg_seeds__stores') }}
),

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

base as (
    select
        {{ period_columns('orders.ordered_at') }},
        coalesce(orders.store_id, '(none)') as store,
        coalesce(stores.region, customers.region, '(none)') as region,
        orders.sales_channel,
        coalesce(orders.fulfilment, '(none)') as fulfilment,
        orders.order_id,
        orders.customer_id,
        orders.is_revenue_order,
        orders.revenue,
        orders.cogs,
        orders.is_delivered_with_promise,
        orders.is_on_time,
        orders.is_deviation,
        orders.is_collect_order,
        (
            orders.is_collect_order
            and (
                orders.status = 'cancelled'
                or (
                    orders.delivered_at is null
                    and orders.status not in ('delivered', 'returned')
                    and cast({{ dbt.dateadd('day', var('not_collected_grace_days'), 'coalesce(orders.promised_at, orders.ordered_at)') }} as date)
                        <= as_of.as_of_date
                )
            )
        ) as is_not_collected
    from orders
    cross join as_of
    left join customers
        on orders.customer_id = customers.customer_id
    left join stores
        on orders.store_id = stores.store_id
),

aggregated as (
    select
        {{ metric_grouping_keys(dimensions) }},
        count(*) as orders_placed,
        sum(case when is_revenue_order then 1 else 0 end) as revenue_orders,
        count(distinct case when is_revenue_order then customer_id end) as paying_customers,
        sum(revenue) as revenue,
        sum(cogs) as cogs,
        sum(case when is_delivered_with_promise then 1 else 0 end) as delivered_with_promise,
        sum(case when is_on_time then 1 else 0 end) as delivered_on_time,
        sum(case when is_deviation then 1 else 0 end) as deviated_orders,
        sum(case when is_collect_order then 1 else 0 end) as collect_orders,
        sum(case when is_not_collected then 1 else 0 end) as not_collected_orders
    from base
    group by {{ metric_grouping_sets(dimensions) }}
)

select * from aggregated
