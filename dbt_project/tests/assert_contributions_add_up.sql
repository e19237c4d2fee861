-- The children's contributions to a parent's change add up to that change
-- (relative error at most 1e-9; a change of 0 may leave rounding noise of
-- 1e-12 of the values), for every key and comparison that was decomposed.
with contributions as (
    select * from {{ ref('mart_metric_contributions') }}
    where method <> 'not_decomposable'
),

sums as (
    select
        parent_metric,
        grain,
        period_start,
        comparison,
        dimension,
        dimension_value,
        max(parent_change) as parent_change,
        max(greatest(abs(parent_value), abs(parent_base_value))) as parent_size,
        sum(contribution) as contributions,
        count(contribution) as children_with_contribution,
        count(*) as children
    from contributions
    group by
        parent_metric,
        grain,
        period_start,
        comparison,
        dimension,
        dimension_value
)

select *
from sums
where children_with_contribution <> children
    or (
        abs(contributions - parent_change) > 1e-9 * abs(parent_change)
        and abs(contributions - parent_change) > 1e-12 * parent_size
    )

{#- Reads several models: Dagster shows it as a check of this one. -#}
{{ config(meta={'dagster': {'ref': {'name': 'mart_metric_contributions'}}}) }}
