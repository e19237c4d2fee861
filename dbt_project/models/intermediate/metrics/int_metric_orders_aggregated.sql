{#- Order components of the metrics per grain and dimension (store, region,
    sales_channel, fulfilment), by the period of ordered_at. Region is the
    store's region for store orders, else the customer's region. Paying
    customers come from int_metric_orders_paying (why there: that model's
    header).
    Period-incremental (macros/period_incremental.sql). A run recomputes the
    periods of: orders (re)built since the last run, at their day and at the
    day they had before; orders of customers (re)loaded since (region); open
    pickup orders whose not-collected deadline fell between the as-of date
    their day was computed with and today's; stored paying customers that
    int_metric_orders_paying no longer gives. A changed store region (seed)
    or an as-of date moved back recomputes every period. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='replace_periods',
        on_schema_change='append_new_columns',
    )
}}
{%- set dimensions = order_dimensions() %}
{%- set ready = period_incremental_ready() %}
{%- set not_collected_deadline -%}
    cast({{ dbt.dateadd('day', var('not_collected_grace_days'), 'coalesce(orders.promised_at, orders.ordered_at)') }} as date)
{%- endset %}

with orders as {{ inlined() }} (
    select * from {{ ref('int_orders_enriched') }}
),

customers as {{ inlined() }} (
    select * from {{ ref('stg_shop__customers') }}
),

stores as (
    select * from {{ ref('stg_seeds__stores') }}
),

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

paying as (
    select * from {{ ref('int_metric_orders_paying') }}
),

stores_state as (
    select {{ stores_fingerprint() }} as fingerprint
    from stores
),

{% if ready %}
watermark as (
    select
        coalesce(max(_source_loaded_until), cast('1900-01-01' as timestamp)) as orders_until,
        coalesce(max(_customers_loaded_until), cast('1900-01-01' as timestamp)) as customers_until,
        max(_as_of_date) as as_of_until
    from {{ this }}
),

rebuild_all as (
    select watermark.as_of_until > as_of.as_of_date or {{ stores_region_changed() }} as yes
    from watermark
    cross join as_of
),

changed_days as (
    {{ order_changed_days() }}
    union
    select cast(orders.ordered_at as date) as affected_day
    from orders
    cross join as_of
    left join {{ this }} as stored
        on stored.grain = 'day'
        and stored.dimension = 'all'
        and stored.period_start = cast(orders.ordered_at as date)
    where orders.is_collect_order
        and orders.delivered_at is null
        and orders.status not in ('cancelled', 'delivered', 'returned')
        and {{ not_collected_deadline }} <= as_of.as_of_date
        and {{ not_collected_deadline }} > coalesce(stored._as_of_date, cast('1900-01-01' as date))
    union
    -- stored counts that int_metric_orders_paying no longer gives (it ran
    -- after this model, e.g. when only this model was materialized)
    select stored.period_start as affected_day
    from {{ this }} as stored
    left join paying
        on stored.grain = paying.grain
        and stored.period_start = paying.period_start
        and stored.dimension = paying.dimension
        and stored.dimension_value = paying.dimension_value
    where stored.paying_customers <> coalesce(paying.paying_customers, 0)
    union
    select cast(ordered_at as date) as affected_day
    from orders
    where (select yes from rebuild_all)
    union
    select period_start as affected_day
    from {{ this }}
    where grain = 'day' and (select yes from rebuild_all)
),

{{ affected_periods_ctes('changed_days') }},
{% endif %}

base as (
    select
        {{ period_columns('orders.ordered_at') }},
        {{ order_dimension_columns() }},
        orders.is_revenue_order,
        orders.revenue,
        orders.cogs,
        orders.is_delivered_with_promise,
        orders.is_on_time,
        orders.is_deviation,
        orders.is_collect_order,
        (
            orders.is_collect_order
            and (
                orders.status = 'cancelled'
                or (
                    orders.delivered_at is null
                    and orders.status not in ('delivered', 'returned')
                    and {{ not_collected_deadline }} <= as_of.as_of_date
                )
            )
        ) as is_not_collected
    from orders
    cross join as_of
    {{ order_dimension_joins() }}
    {%- if ready %}
    where {{ in_affected_periods('orders.ordered_at') }}
    {%- endif %}
),

summed as (
    select
        {{ metric_grouping_keys(dimensions) }},
        count(*) as orders_placed,
        sum(case when is_revenue_order then 1 else 0 end) as revenue_orders,
        sum(revenue) as revenue,
        sum(cogs) as cogs,
        sum(case when is_delivered_with_promise then 1 else 0 end) as delivered_with_promise,
        sum(case when is_on_time then 1 else 0 end) as delivered_on_time,
        sum(case when is_deviation then 1 else 0 end) as deviated_orders,
        sum(case when is_collect_order then 1 else 0 end) as collect_orders,
        sum(case when is_not_collected then 1 else 0 end) as not_collected_orders
    from base
    group by {{ metric_grouping_sets(dimensions) }}  -- noqa: PRS
),

aggregated as (
    select
        summed.grain,
        summed.period_start,
        summed.dimension,
        summed.dimension_value,
        summed.orders_placed,
        summed.revenue_orders,
        coalesce(paying.paying_customers, 0) as paying_customers,
        summed.revenue,
        summed.cogs,
        summed.delivered_with_promise,
        summed.delivered_on_time,
        summed.deviated_orders,
        summed.collect_orders,
        summed.not_collected_orders
    from summed
    left join paying
        on summed.grain = paying.grain
        and summed.period_start = paying.period_start
        and summed.dimension = paying.dimension
        and summed.dimension_value = paying.dimension_value
)

{{ select_with_period_markers(
    'aggregated',
    'select max(_ingested_at) from orders',
    ready,
    extra_state={
        '_customers_loaded_until': '(select max(_ingested_at) from customers)',
        '_stores_fingerprint': '(select fingerprint from stores_state)',
        '_as_of_date': '(select as_of_date from as_of)',
    },
) }}
