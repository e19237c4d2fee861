{#- Top management's cut (cx_management_monthly): per month, each CX counter
    for the whole chain next to the business metric it guards (its parent in
    the tree: nps next to revenue, customer_success_index next to gross_margin),
    with the change against the previous month and a year earlier. -#}
{{ config(alias='cx_management_monthly') }}

with metric_values as (
    select * from {{ ref('mart_metric_values') }}
    where dimension = 'all'
        and grain = 'month'
),

tree as (
    select * from {{ ref('stg_seeds__metric_tree') }}
    where metric_function = 'cx'
),

final as (
    select
        cx.period_start as month,
        cx.metric,
        tree.relation,
        tree.direction,
        cx.value,
        cx.sample_size,
        cx.is_small_sample,
        cx.previous_value,
        cx.change,
        cx.year_earlier_value,
        cx.yoy_change,
        tree.parent as parent_metric,
        parent.value as parent_value,
        parent.change as parent_change,
        parent.change_pct as parent_change_pct,
        cx.is_complete
    from metric_values as cx
    inner join tree
        on cx.metric = tree.metric
    left join metric_values as parent
        on tree.parent = parent.metric
        and cx.period_start = parent.period_start
)

select * from final
