{{ config(alias='metric_values') }}

with metric_values as (
    select * from {{ ref('int_metric_values_compared') }}
),

metrics_available as (
    select * from {{ ref('int_metrics_available') }}
),

{# Metrics that need a feed that was not delivered (no spend export: no CPL, CAC or
    contribution margin, rather than values computed as if spend were 0). The tree
    says which feed is missing (metric_tree.missing_feeds). -#}
unavailable_names as (
    select metric from metrics_available
    where not is_available and metric_prefix is null
),

unavailable_prefixes as (
    select metric_prefix from metrics_available
    where not is_available and metric_prefix is not null
),

delivered as (
    select * from metric_values
    where metric not in (select unavailable_names.metric from unavailable_names)
        and not exists (
            select 1 from unavailable_prefixes
            where {{ dbt.position('unavailable_prefixes.metric_prefix', 'metric_values.metric') }} = 1
        )
),

final as (
    select
        metric,
        grain,
        period_start,
        dimension,
        dimension_value,
        value,
        numerator,
        denominator,
        sample_size,
        {#- Survey metrics from too few answers to compare or rank on. -#}
        coalesce(sample_size < {{ var('cx_min_respondents') }}, false) as is_small_sample,
        previous_value,
        change,
        change_pct,
        year_earlier_value,
        yoy_change,
        yoy,
        is_complete
    from delivered
)

select * from final
