with source as (
    select * from {{ ref('metric_alert_rules') }}
),

renamed as (
    select
        lower(trim(metric)) as metric,
        lower(trim(grain)) as grain,
        coalesce(lower(trim(dimension)), 'all') as dimension,
        lower(trim(baseline)) as baseline,
        cast(tolerance as double) as tolerance,
        cast(min_sample as double) as min_sample,
        lower(trim(route)) as route
    from source
)

select * from renamed
