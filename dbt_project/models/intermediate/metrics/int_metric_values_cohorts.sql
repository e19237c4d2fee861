{#- Cohort metrics by registration month (grain month, period_start = cohort
    month), dimensions all / channel / campaign:
      retention_m{k} = cohort customers with a revenue order in month k / cohort size
      ltv_m{k}       = cumulative gross margin up to month k / cohort size
      ltv_cac        = ltv at the last observed month (<= cohort_max_months) / cac
                     = cumulative gross margin of acquired paid customers / paid spend
      payback_months = first k where ltv_m{k} >= cac, i.e. cumulative margin >= spend
    At dimension 'all', ltv_cac and payback cover paid channels. -#}
{#- The names come from the metric registry (macro metric_catalog). -#}
{%- set retention_prefix = metric_entry('retention_m').metric_prefix %}
{%- set ltv_prefix = metric_entry('ltv_m').metric_prefix %}
{%- set ltv_cac_metric = metric_entry('ltv_cac').metric %}
{%- set payback_metric = metric_entry('payback_months').metric %}

with cohorts as (
    select * from {{ ref('int_cohorts_aggregated') }}
),

spend as (
    select * from {{ ref('int_metric_spend_aggregated') }}
    where grain = 'month'
),

retention as (
    select
        'month' as grain,
        cohort_month as period_start,
        dimension,
        dimension_value,
        concat('{{ retention_prefix }}', cast(months_since_registration as {{ dbt.type_string() }})) as metric,
        cast(active_customers as double) as numerator,
        cast(cohort_size as double) as denominator,
        retention as value,
        cast(cohort_size as bigint) as sample_size,
        is_complete
    from cohorts
),

ltv as (
    select
        'month' as grain,
        cohort_month as period_start,
        dimension,
        dimension_value,
        concat('{{ ltv_prefix }}', cast(months_since_registration as {{ dbt.type_string() }})) as metric,
        cast(cumulative_gross_margin as double) as numerator,
        cast(cohort_size as double) as denominator,
        ltv as value,
        cast(cohort_size as bigint) as sample_size,
        is_complete
    from cohorts
),

paid_cohorts as (
    select
        cohorts.cohort_month,
        cohorts.dimension,
        cohorts.dimension_value,
        cohorts.months_since_registration,
        cohorts.paid_cohort_size,
        cohorts.paid_cumulative_gross_margin,
        cohorts.is_complete,
        spend.paid_marketing_spend
    from cohorts
    inner join spend
        on cohorts.cohort_month = spend.period_start
        and cohorts.dimension = spend.dimension
        and cohorts.dimension_value = spend.dimension_value
    where cohorts.paid_cohort_size > 0
        and spend.paid_marketing_spend > 0
),

last_observed as (
    select
        cohort_month,
        dimension,
        dimension_value,
        max(months_since_registration) as last_month
    from paid_cohorts
    group by
        cohort_month,
        dimension,
        dimension_value
),

ltv_cac as (
    select
        'month' as grain,
        paid_cohorts.cohort_month as period_start,
        paid_cohorts.dimension,
        paid_cohorts.dimension_value,
        '{{ ltv_cac_metric }}' as metric,
        cast(paid_cohorts.paid_cumulative_gross_margin as double) as numerator,
        cast(paid_cohorts.paid_marketing_spend as double) as denominator,
        {{ safe_divide('paid_cohorts.paid_cumulative_gross_margin', 'paid_cohorts.paid_marketing_spend') }} as value,
        cast(paid_cohorts.paid_cohort_size as bigint) as sample_size,
        (paid_cohorts.is_complete and paid_cohorts.months_since_registration = {{ var('cohort_max_months') }})
            as is_complete
    from paid_cohorts
    inner join last_observed
        on paid_cohorts.cohort_month = last_observed.cohort_month
        and paid_cohorts.dimension = last_observed.dimension
        and paid_cohorts.dimension_value = last_observed.dimension_value
        and paid_cohorts.months_since_registration = last_observed.last_month
),

payback_reached as (
    select
        cohort_month,
        dimension,
        dimension_value,
        min(case when paid_cumulative_gross_margin >= paid_marketing_spend then months_since_registration end)
            as payback_months,
        max(paid_cohort_size) as paid_cohort_size,
        max(case when is_complete then months_since_registration end) as last_complete_month
    from paid_cohorts
    group by
        cohort_month,
        dimension,
        dimension_value
),

payback as (
    select
        'month' as grain,
        cohort_month as period_start,
        dimension,
        dimension_value,
        '{{ payback_metric }}' as metric,
        cast(payback_months as double) as numerator,
        cast(null as double) as denominator,
        cast(payback_months as double) as value,
        cast(paid_cohort_size as bigint) as sample_size,
        -- final once reached, or once the whole horizon has been observed without reaching it
        (payback_months is not null or last_complete_month = {{ var('cohort_max_months') }}) as is_complete
    from payback_reached
),

unioned as (
    select * from retention
    union all
    select * from ltv
    union all
    select * from ltv_cac
    union all
    select * from payback
)

select * from unioned
