-- Every metric of the tree (seeds/metric_tree.csv) is declared in the metric
-- registry (macro metric_catalog), by name or by a family prefix, and every
-- metric the registry declares by name is in the tree: a misspelt tree row or
-- a metric left out of the tree fails here, not silently as a metric without
-- values.
with registered as (
    select * from {{ ref('int_metric_tree_registered') }}
),

registry as (
    select * from {{ ref('int_metric_registry') }}
),

unregistered as (
    select
        metric,
        'in seeds/metric_tree.csv but not in the metric registry (macros/metric_catalog.sql)' as problem
    from registered
    where not is_registered
),

not_in_tree as (
    select
        registry.metric,
        'in the metric registry but not in seeds/metric_tree.csv' as problem
    from registry
    left join registered
        on registry.metric = registered.metric
    where registry.metric is not null
        and registered.metric is null
)

select * from unregistered
union all
select * from not_in_tree

{{ config(meta={'dagster': {'ref': {'name': 'int_metric_tree_registered'}}}) }}
