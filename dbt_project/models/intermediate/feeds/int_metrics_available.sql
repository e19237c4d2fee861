{#- One row per seeds/metric_feeds.csv entry: the feeds it needs that were not
    delivered. A metric name ending in * stands for every metric with that prefix. -#}

with metric_feeds as (
    select * from {{ ref('stg_seeds__metric_feeds') }}
),

feeds as (
    select * from {{ ref('int_feeds_delivered') }}
),

missing as (
    select
        metric_feeds.metric,
        {{ dbt.listagg('feeds.feed', "', '", 'order by feeds.feed') }} as missing_feeds
    from metric_feeds
    inner join feeds
        on {{ dbt.position(dbt.concat(["' '", 'feeds.feed', "' '"]), dbt.concat(["' '", 'metric_feeds.requires_feeds', "' '"])) }} > 0
    where not feeds.is_delivered
    group by metric_feeds.metric
),

final as (
    select
        metric_feeds.metric,
        metric_feeds.metric_prefix,
        metric_feeds.requires_feeds,
        missing.missing_feeds,
        missing.missing_feeds is null as is_available
    from metric_feeds
    left join missing
        on metric_feeds.metric = missing.metric
)

select * from final
