{#- Paying customers (distinct customers with a revenue order) per grain and
    dimension, by the period of ordered_at; int_metric_orders_aggregated joins
    them to its sums. A model of its own because DuckDB holds the distinct
    pairs of all 15 grouping sets until a statement ends: counted among the
    sums, or one set at a time beside them, they outgrow the disk or the memory
    limit at large scales (docs/benchmarks.md). distinct_counts_by_set counts one set at a time,
    reading the rows of int_order_payers again for each.
    Period-incremental (macros/period_incremental.sql): a run recomputes the
    periods of orders (re)built since the last run, at their day and at the
    day they had before, and of orders of customers (re)loaded since
    (region); a changed store region (seed) recomputes every period. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='replace_periods',
        on_schema_change='append_new_columns',
    )
}}
{%- set ready = period_incremental_ready() %}

with orders as {{ inlined() }} (
    select * from {{ ref('int_orders_enriched') }}
),

customers as {{ inlined() }} (
    select * from {{ ref('stg_shop__customers') }}
),

stores as (
    select * from {{ ref('stg_seeds__stores') }}
),

stores_state as (
    select {{ stores_fingerprint() }} as fingerprint
    from stores
),

{% if ready %}
watermark as (
    select
        coalesce(max(_source_loaded_until), cast('1900-01-01' as timestamp)) as orders_until,
        coalesce(max(_customers_loaded_until), cast('1900-01-01' as timestamp)) as customers_until
    from {{ this }}
),

rebuild_all as (
    select {{ stores_region_changed() }} as yes
),

changed_days as (
    {{ order_changed_days() }}
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

payers as (
    select
        {{ period_columns('ordered_at') }},
        {{ order_dimensions() | join(',\n        ') }},
        customer_id
    from {{ ref('int_order_payers') }}
    {%- if ready %}
    where {{ in_affected_periods('ordered_at') }}
    {%- endif %}
),

paying as (
    {{ distinct_counts_by_set('payers', {'paying_customers': 'customer_id'}, order_dimensions()) }}
)

{{ select_with_period_markers(
    'paying',
    'select max(_ingested_at) from orders',
    ready,
    extra_state={
        '_customers_loaded_until': '(select max(_ingested_at) from customers)',
        '_stores_fingerprint': '(select fingerprint from stores_state)',
    },
) }}
