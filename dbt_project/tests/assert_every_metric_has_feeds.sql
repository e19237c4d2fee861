-- Every metric that is computed (before the partial-feed filter) and every metric of
-- the tree matches exactly one row of seeds/metric_feeds.csv (by name or by a prefix
-- ending in *): a new metric cannot skip saying which feeds it needs.
with computed as (
    select distinct metric from {{ ref('int_metric_values_compared') }}
    union
    select metric from {{ ref('stg_seeds__metric_tree') }}
),

metric_feeds as (
    select * from {{ ref('stg_seeds__metric_feeds') }}
),

matches as (
    select
        computed.metric,
        count(metric_feeds.metric) as matching_rows
    from computed
    left join metric_feeds
        on computed.metric = metric_feeds.metric
        or (metric_feeds.metric_prefix is not null
            and {{ dbt.position('metric_feeds.metric_prefix', 'computed.metric') }} = 1)
    group by computed.metric
)

select * from matches
where matching_rows <> 1

{#- Reads several models: Dagster shows it as a check of this one. -#}
{{ config(meta={'dagster': {'ref': {'name': 'stg_seeds__metric_feeds'}}}) }}
