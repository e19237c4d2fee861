{#- One row per registration-month cohort and month since registration (0..12,
    only months that have started): cohort size, retention and observed LTV
    (cumulative gross margin per cohort customer). -#}
{{ config(alias='cohort_retention') }}

with cohorts as (
    select * from {{ ref('int_cohorts_aggregated') }}
    where dimension = 'all'
),

final as (
    select
        cohort_month,
        cast(months_since_registration as integer) as months_since_registration,
        activity_month,
        cast(cohort_size as bigint) as cohort_size,
        cast(active_customers as bigint) as active_customers,
        cast(retention as double) as retention,
        cast(gross_margin as double) as gross_margin,
        cast(cumulative_gross_margin as double) as cumulative_gross_margin,
        cast(ltv as double) as ltv,
        is_complete
    from cohorts
)

select * from final
