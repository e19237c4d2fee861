{{ config(alias='metric_values') }}

with metric_values as (
    select * from {{ ref('int_metric_values_compared') }}
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
    from metric_values
)

select * from final
