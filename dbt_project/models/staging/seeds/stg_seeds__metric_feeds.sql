with source as (
    select * from {{ ref('metric_feeds') }}
),

renamed as (
    select
        lower(trim(metric)) as metric,
        {#- 'retention_m*' -> prefix 'retention_m'; NULL for an exact name -#}
        case
            when lower(trim(metric)) like '%*'
                then substring(lower(trim(metric)), 1, length(trim(metric)) - 1)
        end as metric_prefix,
        {#- feed names separated by spaces (test assert_metric_feeds_are_known) -#}
        lower(trim(requires_feeds)) as requires_feeds
    from source
)

select * from renamed
