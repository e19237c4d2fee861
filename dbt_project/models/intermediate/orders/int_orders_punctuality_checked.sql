{#- Delivery punctuality per order. An order without promised_at cannot be
    on time or late: it is left out of on_time_rate's denominator. -#}
{{ config(materialized='view') }}

with orders as (
    select * from {{ ref('stg_shop__orders') }}
),

checked as (
    select
        order_id,
        status,
        (delivered_at is not null and status <> 'cancelled') as is_delivered,
        (delivered_at is not null and status <> 'cancelled' and promised_at is not null)
            as is_delivered_with_promise,
        (delivered_at is not null and status <> 'cancelled' and promised_at is not null
            and delivered_at <= promised_at) as is_on_time,
        (delivered_at is not null and status <> 'cancelled' and promised_at is not null
            and delivered_at > promised_at) as is_late
    from orders
),

-- one pass over the orders (no self-join): a filter on order_id reaches the scan
final as (
    select
        order_id,
        is_delivered,
        is_delivered_with_promise,
        is_on_time,
        is_late,
        (status in ('cancelled', 'returned') or is_late) as is_deviation
    from checked
)

select * from final
