{#- Delivery punctuality per order. An order without promised_at cannot be
    on time or late: it is left out of on_time_rate's denominator. -#}
{{ config(materialized='view') }}

with orders as (
    select * from {{ ref('stg_shop__orders') }}
),

checked as (
    select
        order_id,
        (delivered_at is not null and status <> 'cancelled') as is_delivered,
        (delivered_at is not null and status <> 'cancelled' and promised_at is not null)
            as is_delivered_with_promise,
        (delivered_at is not null and status <> 'cancelled' and promised_at is not null
            and delivered_at <= promised_at) as is_on_time,
        (delivered_at is not null and status <> 'cancelled' and promised_at is not null
            and delivered_at > promised_at) as is_late
    from orders
),

final as (
    select
        checked.*,
        (orders.status in ('cancelled', 'returned') or checked.is_late) as is_deviation
    from checked
    inner join orders
        on checked.order_id = orders.order_id
)

select * from final
