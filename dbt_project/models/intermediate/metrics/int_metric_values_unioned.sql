{#- All metric rows in one shape: the catalog metrics, cx question scores and
    cohort metrics. maturity says how completeness is judged. -#}
{{ config(materialized='view') }}

with computed as (
    select * from {{ ref('int_metric_values_computed') }}
),

cx_questions as (
    select * from {{ ref('int_metric_values_cx_questions') }}
),

cohorts as (
    select * from {{ ref('int_metric_values_cohorts') }}
),

unioned as (
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
        maturity,
        cast(null as boolean) as cohort_is_complete
    from computed
    union all
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
        maturity,
        cast(null as boolean) as cohort_is_complete
    from cx_questions
    union all
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
        'cohort' as maturity,
        is_complete as cohort_is_complete
    from cohorts
)

select * from unioned
