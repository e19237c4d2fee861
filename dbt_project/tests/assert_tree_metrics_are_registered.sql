-- Every metric of the tree (seeds/metric_tree.csv) is declared in the metric
-- registry (macro metric_catalog), by name or by a family prefix, and every
-- metric the registry declares by name is in the tree: a misspelt tree row or
-- a metric left out of the tree fails here, not silently as a metric without
-- values.
with tree as (
    select * from {{ ref('stg_seeds__metric_tree') }}
),

registry as (
    select * from {{ ref('int_metric_registry') }}
),

unregistered as (
    select
        tree.metric,
        'in seeds/metric_tree.csv but not in the metric registry (macros/metric_catalog.sql)' as problem
    from tree
    left join registry as by_name
        on tree.metric = by_name.metric
    left join registry as by_prefix
        on by_prefix.metric_prefix is not null
        and {{ dbt.position('by_prefix.metric_prefix', 'tree.metric') }} = 1
    where by_name.metric is null
        and by_prefix.metric_prefix is null
),

not_in_tree as (
    select
        registry.metric,
        'in the metric registry but not in seeds/metric_tree.csv' as problem
    from registry
    left join tree
        on registry.metric = tree.metric
    where registry.metric is not null
        and tree.metric is null
)

select * from unregistered
union all
select * from not_in_tree

{{ config(meta={'dagster': {'ref': {'name': 'stg_seeds__metric_tree'}}}) }}
