{#- One row per customer: registration, attribution and activation. Contact
    data only as keyed hashes of the normalised values. -#}

with customers as {{ inlined() }} (
    select * from {{ ref('stg_shop__customers') }}
),

attributed as {{ inlined() }} (
    select * from {{ ref('int_customers_attributed') }}
),

activated as {{ inlined() }} (
    select * from {{ ref('int_customers_activated') }}
),

final as (
    select
        customers.customer_id,
        customers.registered_at,
        attributed.registered_on,
        {{ period_start('month', 'attributed.registered_on') }} as cohort_month,
        customers.region,
        {{ pii_hash('customers.email') }} as email_hash,
        {{ pii_hash('customers.phone') }} as phone_hash,
        {{ pii_hash('customers.loyalty_card_id') }} as loyalty_card_hash,
        attributed.lead_id,
        attributed.attribution_method,
        attributed.channel,
        attributed.campaign,
        attributed.channel_group,
        attributed.is_paid,
        activated.first_revenue_order_at,
        cast(activated.days_to_first_revenue_order as integer) as days_to_first_revenue_order,
        activated.is_activated,
        cast(activated.revenue_orders as bigint) as revenue_orders
    from customers
    inner join attributed
        on customers.customer_id = attributed.customer_id
    inner join activated
        on customers.customer_id = activated.customer_id
)

select * from final
