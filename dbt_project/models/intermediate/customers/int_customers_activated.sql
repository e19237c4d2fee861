{#- Each customer's first revenue order and whether it activated them: the
    first revenue order falls at most var activation_window_days calendar days
    after the registration date (day 0 = registration day; a purchase before
    registration, e.g. a loyalty card issued at the till, counts as day 0). -#}

with customers as {{ inlined() }} (
    select * from {{ ref('stg_shop__customers') }}
),

orders as {{ inlined() }} (
    select * from {{ ref('int_orders_enriched') }}
),

first_revenue_orders as (
    select
        customer_id,
        min(ordered_at) as first_revenue_order_at,
        count(*) as revenue_orders
    from orders
    where is_revenue_order
    group by customer_id
),

joined as (
    select
        customers.customer_id,
        customers.registered_at,
        cast(customers.registered_at as date) as registered_on,
        customers.region,
        first_revenue_orders.first_revenue_order_at,
        cast(first_revenue_orders.first_revenue_order_at as date) as first_revenue_order_on,
        coalesce(first_revenue_orders.revenue_orders, 0) as revenue_orders
    from customers
    left join first_revenue_orders
        on customers.customer_id = first_revenue_orders.customer_id
),

final as (
    select
        *,
        case
            when first_revenue_order_on is null then null
            when first_revenue_order_on < registered_on then 0
            else {{ dbt.datediff('registered_on', 'first_revenue_order_on', 'day') }}
        end as days_to_first_revenue_order,
        coalesce(
            {{ dbt.datediff('registered_on', 'first_revenue_order_on', 'day') }}
            <= {{ var('activation_window_days') }},
            false
        ) as is_activated,
        cast({{ dbt.dateadd('day', var('activation_window_days'), 'registered_on') }} as date)
            as activation_window_ends_on
    from joined
)

select * from final
