{#- Parts shared by the two order aggregates (int_metric_orders_aggregated and
    int_metric_orders_paying): the same dimensions, and the same changes that
    re-open a period. The callers name their CTEs orders, customers, stores
    and watermark (orders_until, customers_until). -#}

{% macro order_dimensions() -%}
    {{ return(['store', 'region', 'sales_channel', 'fulfilment']) }}
{%- endmacro %}

{#- The dimension columns of an order: region is the store's region for store
    orders, else the customer's. Needs customers and stores left-joined. -#}
{% macro order_dimension_columns() -%}
        coalesce(orders.store_id, '(none)') as store,
        coalesce(stores.region, customers.region, '(none)') as region,
        orders.sales_channel,
        coalesce(orders.fulfilment, '(none)') as fulfilment
{%- endmacro %}

{% macro order_dimension_joins() -%}
    left join customers
        on orders.customer_id = customers.customer_id
    left join stores
        on orders.store_id = stores.store_id
{%- endmacro %}

{#- affected_day rows (union branches) of the order changes since the
    watermark: an order (re)built, at its day and at the day it had before (a
    corrected order date); a customer (re)loaded (the region of web orders). -#}
{% macro order_changed_days() -%}
    select cast(ordered_at as date) as affected_day
    from orders
    where _ingested_at > (select orders_until from watermark)
    union
    select cast(_previous_ordered_at as date) as affected_day
    from orders
    where _ingested_at > (select orders_until from watermark)
    union
    select cast(orders.ordered_at as date) as affected_day
    from orders
    inner join customers
        on orders.customer_id = customers.customer_id
    where customers._ingested_at > (select customers_until from watermark)
{%- endmacro %}
