{{ config(alias='metric_tree') }}

with tree as (
    select * from {{ ref('stg_seeds__metric_tree') }}
),

final as (
    select
        metric,
        parent,
        relation,
        cast(weight as double) as weight,
        kind,
        metric_function as function,
        unit,
        direction,
        description
    from tree
)

select * from final
