{#- One row per order line, with its order's attributes and the revenue rule applied. -#}
{{
    config(
        materialized='incremental',
        unique_key=['order_id', 'line_no'],
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
    )
}}

with items as (
    select * from {{ ref('int_order_items_classified') }}
    {% if is_incremental() %}
    where _ingested_at > (select coalesce(max(_ingested_at), cast('1900-01-01' as timestamp)) from {{ this }})
    {% endif %}
),

final as (
    select
        order_id,
        line_no,
        sku,
        category,
        quantity,
        unit_price,
        unit_cost,
        customer_id,
        ordered_at,
        cast(ordered_at as date) as ordered_on,
        status,
        sales_channel,
        store_id,
        fulfilment,
        is_revenue,
        line_amount,
        line_cost,
        revenue,
        cogs,
        cast(gross_margin as decimal(18, 4)) as gross_margin,
        _ingested_at
    from items
)

select * from final
