-- Every metric of the tree whose feeds were delivered has values (dimension
-- all) at every grain the registry declares for it. A warning, not an error:
-- a young shop has no year-earlier revenue and no complete cohort yet, which
-- is no reason to hold back the marts; on the demo world it must be empty.
{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'mart_metric_tree'}}}) }}

with tree as (
    select * from {{ ref('mart_metric_tree') }}
    where availability = 'available'
),

registered as (
    select * from {{ ref('int_metric_tree_registered') }}
),

grains as (
    {%- for g in var('metric_grains') %}
    select '{{ g }}' as grain
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

declared as (
    select
        tree.metric,
        grains.grain
    from tree
    inner join registered
        on tree.metric = registered.metric
    inner join grains
        on {{ dbt.position("concat(',', grains.grain, ',')", "concat(',', registered.grains, ',')") }} > 0
),

metric_values as (
    select distinct
        metric,
        grain
    from {{ ref('mart_metric_values') }}
    where dimension = 'all'
)

select declared.*
from declared
left join metric_values
    on declared.metric = metric_values.metric
    and declared.grain = metric_values.grain
where metric_values.metric is null
