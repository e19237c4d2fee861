-- The tree reconciles at the top: gross_margin = revenue - cogs and
-- contribution_margin = gross_margin - marketing_spend (dimension all).
with metric_values as (
    select * from {{ ref('mart_metric_values') }}
    where metric in ('revenue', 'cogs', 'gross_margin', 'marketing_spend', 'contribution_margin')
),

pivoted as (
    select
        grain,
        period_start,
        dimension,
        dimension_value,
        max(case when metric = 'revenue' then value end) as revenue,
        max(case when metric = 'cogs' then value end) as cogs,
        max(case when metric = 'gross_margin' then value end) as gross_margin,
        max(case when metric = 'marketing_spend' then value end) as marketing_spend,
        max(case when metric = 'contribution_margin' then value end) as contribution_margin
    from metric_values
    group by
        grain,
        period_start,
        dimension,
        dimension_value
)

select *
from pivoted
where abs(gross_margin - (revenue - cogs)) > 0.0001
    or (
        dimension = 'all'
        and abs(contribution_margin - (coalesce(gross_margin, 0) - coalesce(marketing_spend, 0))) > 0.0001
    )
