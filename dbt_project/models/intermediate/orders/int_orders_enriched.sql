{#- One row per order: status flags, item totals (from the revenue items) and
    punctuality. Incremental on the latest load time of the order or any of
    its lines. -#}
{{
    config(
        materialized='incremental',
        unique_key='order_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
    )
}}

with orders as {{ inlined() }} (
    select * from {{ ref('stg_shop__orders') }}
),

items as {{ inlined() }} (
    select * from {{ ref('int_order_items_classified') }}
),

{% if is_incremental() %}
watermark as (
    select coalesce(max(_ingested_at), cast('1900-01-01' as timestamp)) as loaded_until
    from {{ this }}
),

changed_orders as (
    select order_id from items
    where _ingested_at > (select loaded_until from watermark)
    union
    select order_id from orders
    where _ingested_at > (select loaded_until from watermark)
),
{% endif %}

item_totals as (
    select
        order_id,
        count(*) as item_lines,
        sum(quantity) as quantity,
        sum(line_amount) as order_amount,
        sum(revenue) as revenue,
        sum(cogs) as cogs,
        max(_ingested_at) as _ingested_at
    from items
    {% if is_incremental() %}
    where order_id in (select order_id from changed_orders)
    {% endif %}
    group by order_id
),

enriched as (
    select
        orders.order_id,
        orders.customer_id,
        orders.ordered_at,
        cast(orders.ordered_at as date) as ordered_on,
        orders.status,
        orders.sales_channel,
        orders.store_id,
        orders.fulfilment,
        orders.promised_at,
        orders.delivered_at,
        orders.currency,
        {{ is_revenue_status('orders.status') }} as is_revenue_order,
        coalesce(item_totals.item_lines, 0) as item_lines,
        coalesce(item_totals.quantity, 0) as quantity,
        coalesce(item_totals.order_amount, cast(0 as decimal(18, 4))) as order_amount,
        coalesce(item_totals.revenue, cast(0 as decimal(18, 4))) as revenue,
        coalesce(item_totals.cogs, cast(0 as decimal(18, 4))) as cogs,
        coalesce(item_totals.revenue, 0) - coalesce(item_totals.cogs, 0) as gross_margin,
        {{ punctuality_flags('orders') }},
        {{ in_list('orders.fulfilment', var('collect_fulfilments')) }} as is_collect_order,
        case
            when item_totals._ingested_at > orders._ingested_at then item_totals._ingested_at
            else orders._ingested_at
        end as _ingested_at,
        {#- the order time of the row this one replaces: a corrected order date
            re-opens its old periods in the period-incremental aggregates -#}
        {%- if is_incremental() %}
        previous.ordered_at as _previous_ordered_at
        {%- else %}
        cast(null as timestamp) as _previous_ordered_at
        {%- endif %}
    from orders
    left join item_totals
        on orders.order_id = item_totals.order_id
    {% if is_incremental() %}
    left join {{ this }} as previous
        on orders.order_id = previous.order_id
    where orders.order_id in (select order_id from changed_orders)
    {% endif %}
)

select * from enriched
