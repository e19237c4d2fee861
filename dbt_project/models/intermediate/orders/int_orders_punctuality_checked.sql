{#- Delivery punctuality per order. An order without promised_at cannot be
    on time or late: it is left out of on_time_rate's denominator. The flags
    come from macro punctuality_flags, which int_orders_enriched uses too. -#}
{{ config(materialized='view') }}

with orders as {{ inlined() }} (
    select * from {{ ref('stg_shop__orders') }}
),

final as (
    select
        orders.order_id,
        {{ punctuality_flags('orders') }}
    from orders
)

select * from final
