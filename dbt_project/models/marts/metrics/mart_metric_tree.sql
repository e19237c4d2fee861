{{ config(alias='metric_tree') }}

with tree as (
    select * from {{ ref('stg_seeds__metric_tree') }}
),

metrics_available as (
    select * from {{ ref('int_metrics_available') }}
),

registered as (
    select * from {{ ref('int_metric_tree_registered') }}
),

{# Each tree metric with its seeds/metric_feeds.csv row: by name, else by prefix. -#}
with_feeds as (
    select
        tree.metric,
        coalesce(by_name.requires_feeds, by_prefix.requires_feeds) as requires_feeds,
        coalesce(by_name.missing_feeds, by_prefix.missing_feeds) as missing_feeds
    from tree
    left join metrics_available as by_name
        on tree.metric = by_name.metric
    left join metrics_available as by_prefix
        on by_name.metric is null
        and by_prefix.metric_prefix is not null
        and {{ dbt.position('by_prefix.metric_prefix', 'tree.metric') }} = 1
),

final as (
    select
        tree.metric,
        tree.parent,
        tree.relation,
        cast(tree.weight as double) as weight,
        tree.kind,
        tree.metric_function as function,
        tree.unit,
        tree.direction,
        registered.description,
        with_feeds.requires_feeds,
        with_feeds.missing_feeds,
        case
            when with_feeds.missing_feeds is null then 'available'
            else {{ dbt.concat(["'not delivered: '", 'with_feeds.missing_feeds']) }}
        end as availability
    from tree
    inner join with_feeds
        on tree.metric = with_feeds.metric
    inner join registered
        on tree.metric = registered.metric
)

select * from final
