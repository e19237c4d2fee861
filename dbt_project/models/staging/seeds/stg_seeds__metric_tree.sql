with source as (
    select * from {{ ref('metric_tree') }}
),

renamed as (
    select
        lower(trim(metric)) as metric,
        nullif(lower(trim(parent)), '') as parent,
        lower(trim(relation)) as relation,
        coalesce(weight, 1) as weight,
        lower(trim(kind)) as kind,
        lower(trim(function)) as metric_function,
        unit,
        lower(trim(direction)) as direction
    from source
)

select * from renamed
