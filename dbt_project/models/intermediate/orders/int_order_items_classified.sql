{#- Revenue items: every order line with its order's status and the revenue
    rule (var revenue_statuses) applied. Incremental: a line is rebuilt when the
    line or its order was (re)loaded after the last run, so a status change
    (paid -> returned) moves the line out of revenue. -#}
{{
    config(
        materialized='incremental',
        unique_key=['order_id', 'line_no'],
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
    )
}}

with items as {{ inlined() }} (
    select * from {{ ref('stg_shop__order_items') }}
),

orders as {{ inlined() }} (
    select * from {{ ref('stg_shop__orders') }}
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

classified as (
    select
        items.order_id,
        items.line_no,
        items.sku,
        coalesce(items.category, '(none)') as category,
        items.quantity,
        items.unit_price,
        items.unit_cost,
        orders.customer_id,
        orders.ordered_at,
        orders.status,
        orders.sales_channel,
        orders.store_id,
        orders.fulfilment,
        {{ is_revenue_status('orders.status') }} as is_revenue,
        cast(items.quantity * items.unit_price as decimal(18, 4)) as line_amount,
        cast(items.quantity * items.unit_cost as decimal(18, 4)) as line_cost,
        case
            when {{ is_revenue_status('orders.status') }}
                then cast(items.quantity * items.unit_price as decimal(18, 4))
            else cast(0 as decimal(18, 4))
        end as revenue,
        case
            when {{ is_revenue_status('orders.status') }}
                then cast(items.quantity * items.unit_cost as decimal(18, 4))
            else cast(0 as decimal(18, 4))
        end as cogs,
        greatest(items._ingested_at, orders._ingested_at) as _ingested_at,
        {#- the order time of the row this one replaces: a corrected order date
            re-opens its old periods in the period-incremental aggregates -#}
        {%- if is_incremental() %}
        previous.ordered_at as _previous_ordered_at
        {%- else %}
        cast(null as timestamp) as _previous_ordered_at
        {%- endif %}
    from items
    inner join orders
        on items.order_id = orders.order_id
    {% if is_incremental() %}
    left join {{ this }} as previous
        on items.order_id = previous.order_id
        and items.line_no = previous.line_no
    where items.order_id in (select order_id from changed_orders)
    {% endif %}
),

final as (
    select
        *,
        revenue - cogs as gross_margin
    from classified
)

select * from final
