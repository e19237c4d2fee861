{#- Cohort base: one row per customer and calendar month with a revenue order,
    with the months since the registration month (orders before registration
    count in month 0). Churn, retention and LTV all read this one model. -#}

with customers as {{ inlined() }} (
    select * from {{ ref('int_customers_attributed') }}
),

orders as {{ inlined() }} (
    select * from {{ ref('int_orders_enriched') }}
),

customer_months as (
    select
        customer_id,
        {{ period_start('month', 'ordered_on') }} as order_month,
        count(*) as revenue_orders,
        sum(revenue) as revenue,
        sum(gross_margin) as gross_margin
    from orders
    where is_revenue_order
    group by
        customer_id,
        {{ period_start('month', 'ordered_on') }}
),

final as (
    select
        customer_months.customer_id,
        customer_months.order_month,
        {{ period_start('month', 'customers.registered_on') }} as cohort_month,
        case
            when customer_months.order_month < {{ period_start('month', 'customers.registered_on') }} then 0
            else {{ dbt.datediff(period_start('month', 'customers.registered_on'), 'customer_months.order_month', 'month') }}
        end as months_since_registration,
        customers.channel,
        customers.campaign,
        customers.is_paid,
        customer_months.revenue_orders,
        customer_months.revenue,
        customer_months.gross_margin
    from customer_months
    inner join customers
        on customer_months.customer_id = customers.customer_id
)

select * from final
