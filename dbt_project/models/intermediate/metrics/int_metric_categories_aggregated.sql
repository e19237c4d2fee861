{#- Revenue components by product category (item level), by ordered_at period.
    An order with lines in two categories counts as a revenue order of both.
    Period-incremental (macros/period_incremental.sql): a run recomputes the
    periods of the lines (re)built since the last run, and the periods those
    lines were in before (an order whose date was corrected). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='replace_periods',
        on_schema_change='append_new_columns',
    )
}}
{%- set dimensions = ['category'] %}
{%- set ready = period_incremental_ready() %}

with items as (
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

base as (
    select
        {{ period_columns('ordered_at') }},
        category,
        order_id,
        customer_id,
        revenue,
        cogs
    from items
    where is_revenue
    {%- if ready %}
        and {{ in_affected_periods('ordered_at') }}
    {%- endif %}
),

aggregated as (
    select
        {{ metric_grouping_keys(dimensions) }},
        count(distinct order_id) as revenue_orders,
        count(distinct customer_id) as paying_customers,
        sum(revenue) as revenue,
        sum(cogs) as cogs
    from base
    group by {{ metric_grouping_sets(dimensions, with_all=false) }}
)

-- the 'all' rows come from int_metric_orders_aggregated
{{ select_with_period_markers('aggregated', 'select max(_ingested_at) from items', ready) }}
