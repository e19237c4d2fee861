{#- One row per order: status, revenue flags and amounts, punctuality. -#}
{{
    config(
        materialized='incremental',
        unique_key='order_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
    )
}}

with orders as (
    select * from {{ ref('int_orders_enriched') }}
    {% if is_incremental() %}
    where _ingested_at > (select coalesce(max(_ingested_at), cast('1900-01-01' as timestamp)) from {{ this }})
    {% endif %}
),

final as (
    select
        order_id,
        customer_id,
        ordered_at,
        ordered_on,
        status,
        sales_channel,
        store_id,
        fulfilment,
        promised_at,
        delivered_at,
        currency,
        is_revenue_order,
        cast(item_lines as bigint) as item_lines,
        cast(quantity as bigint) as quantity,
        cast(order_amount as decimal(18, 4)) as order_amount,
        cast(revenue as decimal(18, 4)) as revenue,
        cast(cogs as decimal(18, 4)) as cogs,
        cast(gross_margin as decimal(18, 4)) as gross_margin,
        is_delivered,
        is_delivered_with_promise,
        is_on_time,
        is_late,
        is_deviation,
        is_collect_order,
        _ingested_at
    from orders
)

select * from final
