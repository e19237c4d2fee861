{#- The revenue orders with the dimension values and customer that
    int_metric_orders_paying counts distinct customers over: a table, so that
    the count reads it once per grouping set. As a CTE it was materialized
    again inside the count's recursion and spilled until the disk was full
    (docs/benchmarks.md, "DuckDB materializes a CTE read twice"). Rebuilt whole each run:
    the region of a web order follows its customer. -#}
{{ config(materialized='table') }}

with orders as {{ inlined() }} (
    select * from {{ ref('int_orders_enriched') }}
),

customers as {{ inlined() }} (
    select * from {{ ref('stg_shop__customers') }}
),

stores as (
    select * from {{ ref('stg_seeds__stores') }}
),

final as (
    select
        orders.order_id,
        orders.ordered_at,
        {{ order_dimension_columns() }},
        orders.customer_id
    from orders
    {{ order_dimension_joins() }}
    where orders.is_revenue_order
)

select * from final
