{{ config(alias='metric_tree') }}

with tree as (
    select * from {{ ref('stg_seeds__metric_tree') }}
),

metrics_available as (
    select * from {{ ref('int_metrics_available') }}
),

registry as (
    select * from {{ ref('int_metric_registry') }}
),

{# Each tree metric's description from the registry: by name, else by the
    family prefix ({question} in a family's text is the metric's suffix). -#}
described as (
    select
        tree.metric,
        coalesce(
            by_name.description,
            {{ dbt.replace(
                'by_prefix.description',
                "'{question}'",
                dbt.right('tree.metric', dbt.length('tree.metric') ~ ' - ' ~ dbt.length('by_prefix.metric_prefix'))
            ) }}
        ) as description
    from tree
    left join registry as by_name
        on tree.metric = by_name.metric
    left join registry as by_prefix
        on by_name.metric is null
        and by_prefix.metric_prefix is not null
        and {{ dbt.position('by_prefix.metric_prefix', 'tree.metric') }} = 1
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
        described.description,
        with_feeds.requires_feeds,
        with_feeds.missing_feeds,
        case
            when with_feeds.missing_feeds is null then 'available'
            else {{ dbt.concat(["'not delivered: '", 'with_feeds.missing_feeds']) }}
        end as availability
    from tree
    inner join with_feeds
        on tree.metric = with_feeds.metric
    inner join described
        on tree.metric = described.metric
)

select * from final
