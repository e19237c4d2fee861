{#- Revenue components by product category (item level), by ordered_at period.
    An order with lines in two categories counts as a revenue order of both.
    Period-incremental (macros/period_incremental.sql): a run recomputes the
    periods of the lines (re)built since the last run, and the periods those
    lines were in before (an order whose date was corrected).
    The distinct orders and customers are counted by distinct_counts_by_set,
    one count of one grouping set at a time, over distinct_key(): a 64-bit
    hash of the id on DuckDB, which the test hash_collision_free on the
    orders' ids guards (the build stops before this model if two ids share a
    hash). Over the 18-character ids themselves, or with both counts in one
    pass, the large scales run out of a small memory limit (docs/benchmarks.md).
    The orders are counted per day and summed for weeks and months: an order
    has one order date. The sums are taken per day first as well: DuckDB
    copies the input of a grouping-sets aggregate, here one row per item line. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='replace_periods',
        on_schema_change='append_new_columns',
    )
}}
{%- set dimensions = ['category'] %}
{%- set ready = period_incremental_ready() %}

with items as {{ inlined() }} (
    select * from {{ ref('int_order_items_classified') }}
),

{% if ready %}
watermark as (
    select coalesce(max(_source_loaded_until), cast('1900-01-01' as timestamp)) as loaded_until
    from {{ this }}
),

changed_days as (
    select cast(ordered_at as date) as affected_day
    from items
    where _ingested_at > (select loaded_until from watermark)
    union
    select cast(_previous_ordered_at as date) as affected_day
    from items
    where _ingested_at > (select loaded_until from watermark)
),

{{ affected_periods_ctes('changed_days') }},
{% endif %}

base as {{ inlined() }} (
    select
        {{ period_columns('ordered_at') }},
        category,
        {{ distinct_key('order_id') }} as order_key,
        {{ distinct_key('customer_id') }} as customer_key,
        revenue,
        cogs
    from items
    where is_revenue
    {%- if ready %}
        and {{ in_affected_periods('ordered_at') }}
    {%- endif %}
),

{%- set period_keys = [] %}
{%- for g in metric_grains() %}{% do period_keys.append('period_' ~ g) %}{% endfor %}

day_sums as (
    select
        {{ period_keys | join(',\n        ') }},
        category,
        sum(revenue) as revenue,
        sum(cogs) as cogs
    from base
    group by {{ period_keys | join(', ') }}, category
),

summed as (
    select
        {{ metric_grouping_keys(dimensions) }},
        sum(revenue) as revenue,
        sum(cogs) as cogs
    from day_sums
    group by {{ metric_grouping_sets(dimensions, with_all=false) }}  -- noqa: PRS
),

counted as (
    {{ distinct_counts_by_set(
        'base',
        {'revenue_orders': 'order_key', 'paying_customers': 'customer_key'},
        dimensions,
        with_all=false,
        summed_counts=['revenue_orders'],
    ) }}
),

aggregated as (
    select
        summed.grain,
        summed.period_start,
        summed.dimension,
        summed.dimension_value,
        counted.revenue_orders,
        counted.paying_customers,
        summed.revenue,
        summed.cogs
    from summed
    inner join counted
        on summed.grain = counted.grain
        and summed.period_start = counted.period_start
        and summed.dimension = counted.dimension
        and summed.dimension_value = counted.dimension_value
)

-- the 'all' rows come from int_metric_orders_aggregated
{{ select_with_period_markers('aggregated', 'select max(_ingested_at) from items', ready) }}
