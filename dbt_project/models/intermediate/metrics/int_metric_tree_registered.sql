{# Each metric of the tree with its registry entry (int_metric_registry): by
    name, else by the family prefix. The family's suffix placeholder in its
    description ({question}) becomes the metric's own suffix. is_registered is false for a tree row the registry
    does not declare (the data test assert_tree_metrics_are_registered). -#}

with tree as (
    select * from {{ ref('stg_seeds__metric_tree') }}
),

registry as (
    select * from {{ ref('int_metric_registry') }}
),

final as (
    select
        tree.metric,
        coalesce(
            by_name.description,
            {{ dbt.replace(
                'by_prefix.description',
                'by_prefix.suffix',
                dbt.right('tree.metric', dbt.length('tree.metric') ~ ' - ' ~ dbt.length('by_prefix.metric_prefix'))
            ) }}
        ) as description,
        coalesce(by_name.grains, by_prefix.grains) as grains,
        (by_name.section is not null or by_prefix.section is not null) as is_registered
    from tree
    left join registry as by_name
        on tree.metric = by_name.metric
    left join registry as by_prefix
        on by_name.metric is null
        and by_prefix.metric_prefix is not null
        and {{ dbt.position('by_prefix.metric_prefix', 'tree.metric') }} = 1
)

select * from final
