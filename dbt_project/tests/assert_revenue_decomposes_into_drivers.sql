-- revenue = paying_customers x orders_per_paying_customer x aov for every
-- period and dimension value where the four are published.
with metric_values as (
    select * from {{ ref('mart_metric_values') }}
    where metric in ('revenue', 'paying_customers', 'orders_per_paying_customer', 'aov')
),

pivoted as (
    select
        grain,
        period_start,
        dimension,
        dimension_value,
        max(case when metric = 'revenue' then value end) as revenue,
        max(case when metric = 'paying_customers' then value end) as paying_customers,
        max(case when metric = 'orders_per_paying_customer' then value end) as orders_per_paying_customer,
        max(case when metric = 'aov' then value end) as aov
    from metric_values
    group by
        grain,
        period_start,
        dimension,
        dimension_value
)

select *
from pivoted
where paying_customers > 0
    and abs(revenue - paying_customers * orders_per_paying_customer * aov) > 0.0001 * (1 + abs(revenue))
