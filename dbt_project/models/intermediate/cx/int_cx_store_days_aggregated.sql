{#- Survey components per store and answer day: the base of the store
    directors' live cut (cx_store_live), refreshed every 15 minutes.
    Incremental: only the (store, day) pairs that received answers ingested
    since the last run are recomputed (from all of that pair's answers, so a
    re-landed answer replaces its earlier version instead of adding to it).
    It reads the staging views, not the order chain, so a run touches a few
    thousand rows whatever the history. The components have the names of
    int_metric_survey_aggregated's, so the catalog formulas (macro
    metric_catalog) apply unchanged. An answer moved to another store by a
    re-landed file leaves its old pair stale until --full-refresh. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['store_id', 'answered_on'],
    tags=['cx_store'],
) }}

with answers as (
    select
        answer_id,
        answered_at,
        survey,
        score,
        order_id,
        store_id,
        _ingested_at
    from {{ ref('stg_survey__survey_answers') }}
),

orders as (
    select
        order_id,
        store_id
    from {{ ref('stg_shop__orders') }}
),

{%- if is_incremental() %}

new_answers as (
    select * from answers
    where _ingested_at > (select max(max_ingested_at) from {{ this }})
),

touched as (
    select distinct
        coalesce(new_answers.store_id, orders.store_id) as store_id,
        cast(new_answers.answered_at as date) as answered_on
    from new_answers
    left join orders
        on new_answers.order_id = orders.order_id
),

scoped as (
    select answers.*
    from answers
    where cast(answers.answered_at as date) in (select answered_on from touched)
),
{%- else %}

scoped as (
    select * from answers
),
{%- endif %}

{# An answer's store: its own, else its order's (macro answers_with_store). -#}
stored as (
    {{ answers_with_store('scoped', 'orders') }}
),

based as (
    select
        answer_store_id as store_id,
        cast(answered_at as date) as answered_on,
        answered_at,
        survey,
        score,
        _ingested_at,
        {{ nps_class('score') }} as nps_class
    from stored
),

{%- if is_incremental() %}

in_scope as (
    select based.*
    from based
    inner join touched
        on based.store_id = touched.store_id
        and based.answered_on = touched.answered_on
),
{%- else %}

in_scope as (
    select * from based
    where store_id is not null
),
{%- endif %}

aggregated as (
    select
        store_id,
        answered_on,
        {{ survey_component_sums(as_bigint=true) }},
        max(answered_at) as last_answered_at,
        max(_ingested_at) as max_ingested_at,
        {{ dbt.current_timestamp() }} as aggregated_at
    from in_scope
    group by
        store_id,
        answered_on
)

select * from aggregated
