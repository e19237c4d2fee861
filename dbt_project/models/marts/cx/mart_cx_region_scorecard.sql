{#- Regional managers' cut (cx_region_scorecard): the CX counters per region,
    day and ISO week, next to revenue, from metric_values. One row per region,
    grain, period and metric, so a new cx question appears without a change. -#}
{{ config(alias='cx_region_scorecard') }}

with metric_values as (
    select * from {{ ref('mart_metric_values') }}
    where dimension = 'region'
        and grain in ('day', 'week')
),

tree as (
    select * from {{ ref('stg_seeds__metric_tree') }}
),

final as (
    select
        metric_values.dimension_value as region,
        metric_values.grain,
        metric_values.period_start,
        metric_values.metric,
        tree.parent as parent_metric,
        tree.direction,
        metric_values.value,
        metric_values.numerator,
        metric_values.denominator,
        metric_values.sample_size,
        metric_values.is_small_sample,
        metric_values.previous_value,
        metric_values.change,
        metric_values.is_complete
    from metric_values
    inner join tree
        on metric_values.metric = tree.metric
    where tree.metric_function = 'cx'
        or metric_values.metric in ('revenue', 'gross_margin')
)

select * from final
