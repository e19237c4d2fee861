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
