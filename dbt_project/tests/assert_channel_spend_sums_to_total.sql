-- The sum over channels of marketing spend equals total spend for each grain and
-- period, and so does the sum over campaigns (every spend row has a channel and
-- a campaign, '(none)' included).
with metric_values as (
    select * from {{ ref('mart_metric_values') }}
    where metric = 'marketing_spend'
),

totals as (
    select
        grain,
        period_start,
        sum(case when dimension = 'all' then value else 0 end) as total_spend,
        sum(case when dimension = 'channel' then value else 0 end) as channel_spend,
        sum(case when dimension = 'campaign' then value else 0 end) as campaign_spend
    from metric_values
    group by
        grain,
        period_start
)

select *
from totals
where abs(total_spend - channel_spend) > 0.0001
    or abs(total_spend - campaign_spend) > 0.0001
