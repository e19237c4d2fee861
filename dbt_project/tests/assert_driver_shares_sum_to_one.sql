-- Wherever a parent changed and each of its identity children (summand,
-- subtrahend, factor, divisor in the tree) has a share, the shares sum to 1.
with drivers as (
    select * from {{ ref('mart_metric_drivers') }}
    where method is not null
),

tree as (
    select * from {{ ref('stg_seeds__metric_tree') }}
),

identity_children as (
    select
        parent,
        count(*) as children
    from tree
    where relation in ('summand', 'subtrahend', 'factor', 'divisor')
    group by parent
),

sums as (
    select
        drivers.parent_metric,
        drivers.grain,
        drivers.period_start,
        drivers.dimension,
        drivers.dimension_value,
        count(drivers.share) as children_with_share,
        sum(drivers.share) as share_sum
    from drivers
    where drivers.parent_change <> 0
    group by
        drivers.parent_metric,
        drivers.grain,
        drivers.period_start,
        drivers.dimension,
        drivers.dimension_value
)

select sums.*
from sums
inner join identity_children
    on sums.parent_metric = identity_children.parent
where sums.children_with_share = identity_children.children
    and abs(sums.share_sum - 1) > 0.000001

{#- Reads several models: Dagster shows it as a check of this one. -#}
{{ config(meta={'dagster': {'ref': {'name': 'mart_metric_drivers'}}}) }}
