-- Every word of seeds/metric_feeds.csv requires_feeds is a landing feed: a misspelt
-- feed would never count as delivered and would hide its metrics for good.
with metric_feeds as (
    select * from {{ ref('stg_seeds__metric_feeds') }}
),

leftover as (
    select
        metric,
        requires_feeds,
        trim(
            replace(replace(replace(replace(replace(replace(replace(
                requires_feeds,
                'order_items', ''), 'orders', ''), 'customers', ''), 'leads', ''),
                'marketing_spend', ''), 'survey_answers', ''), 'support_contacts', '')
        ) as unknown_words
    from metric_feeds
)

select * from leftover
where unknown_words <> '' or requires_feeds = ''
