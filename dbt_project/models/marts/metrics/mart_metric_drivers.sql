{#- For each parent metric of the tree, key and child: the parent's change and
    the share of it the child explains.
      summand / subtrahend: share = (+/-) weight x child change / parent change
      factor / divisor:     share = (+/-) ln(child / child previous) / ln(parent / parent previous)
    Shares of a parent's identity children sum to 1 wherever the parent changed
    (the log form needs positive values). counter, driver and derived children
    show their own change, with no share: the reader follows them down the tree. -#}
{{ config(alias='metric_drivers') }}

with tree as (
    select * from {{ ref('stg_seeds__metric_tree') }}
    where parent is not null
),

metric_values as (
    select * from {{ ref('mart_metric_values') }}
),

pairs as (
    select
        tree.parent as parent_metric,
        tree.metric as child_metric,
        tree.relation,
        tree.weight,
        parent.grain,
        parent.period_start,
        parent.dimension,
        parent.dimension_value,
        parent.value as parent_value,
        parent.previous_value as parent_previous_value,
        parent.change as parent_change,
        parent.change_pct as parent_change_pct,
        child.value as child_value,
        child.previous_value as child_previous_value,
        child.change as child_change,
        child.change_pct as child_change_pct,
        (parent.is_complete and child.is_complete) as is_complete
    from tree
    inner join metric_values as parent
        on tree.parent = parent.metric
    inner join metric_values as child
        on tree.metric = child.metric
        and parent.grain = child.grain
        and parent.period_start = child.period_start
        and parent.dimension = child.dimension
        and parent.dimension_value = child.dimension_value
),

shared as (
    select
        *,
        case
            when relation in ('summand', 'subtrahend') then 'additive'
            when relation in ('factor', 'divisor') then 'log_change'
        end as method,
        case
            when relation in ('summand', 'subtrahend') and parent_change <> 0 then
                (case when relation = 'subtrahend' then -1 else 1 end) * weight * child_change / parent_change
            when relation in ('factor', 'divisor')
                and parent_value > 0 and parent_previous_value > 0
                and child_value > 0 and child_previous_value > 0
                and parent_value <> parent_previous_value then
                (case when relation = 'divisor' then -1 else 1 end)
                * ln(child_value / child_previous_value)
                / ln(parent_value / parent_previous_value)
        end as share
    from pairs
),

final as (
    select
        parent_metric,
        grain,
        period_start,
        dimension,
        dimension_value,
        child_metric,
        relation,
        method,
        parent_value,
        parent_previous_value,
        parent_change,
        parent_change_pct,
        child_value,
        child_previous_value,
        child_change,
        child_change_pct,
        share,
        share * parent_change as explained_change,
        is_complete
    from shared
)

select * from final
