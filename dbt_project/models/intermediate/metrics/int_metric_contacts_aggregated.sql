{#- Support contacts per period of contacted_at. Order dimensions come from the
    contact's order; contacts without an order have '(none)' there. -#}
{%- set dimensions = ['store', 'region', 'sales_channel', 'fulfilment'] %}

with contacts as {{ inlined() }} (
    select * from {{ ref('stg_contact_centre__support_contacts') }}
),

orders as {{ inlined() }} (
    select * from {{ ref('int_orders_enriched') }}
),

customers as {{ inlined() }} (
    select * from {{ ref('stg_shop__customers') }}
),

stores as (
    select * from {{ ref('stg_seeds__stores') }}
),

base as (
    select
        {{ period_columns('contacts.contacted_at') }},
        coalesce(orders.store_id, '(none)') as store,
        coalesce(stores.region, customers.region, '(none)') as region,
        coalesce(orders.sales_channel, '(none)') as sales_channel,
        coalesce(orders.fulfilment, '(none)') as fulfilment,
        contacts.contact_id
    from contacts
    left join orders
        on contacts.order_id = orders.order_id
    left join customers
        on coalesce(contacts.customer_id, orders.customer_id) = customers.customer_id
    left join stores
        on orders.store_id = stores.store_id
),

aggregated as (
    select
        {{ metric_grouping_keys(dimensions) }},
        count(*) as support_contacts
    from base
    group by {{ metric_grouping_sets(dimensions) }}  -- noqa: PRS
)

select * from aggregated
