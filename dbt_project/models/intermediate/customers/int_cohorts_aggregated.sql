{#- Registration-month cohorts: for each cohort month, months since
    registration k = 0..var cohort_max_months and dimension (all, channel,
    campaign): cohort size, customers with a revenue order in month k, and
    cumulative gross margin up to month k, with retention_m{k} = active /
    cohort size and ltv_m{k} = cumulative gross margin / cohort size. Only months that have started by
    the as-of date are present; is_complete says the month k is over.
    The paid_* columns cover customers of paid channels (CAC, LTV/CAC and
    payback at dimension 'all'). -#}

with customers as {{ inlined() }} (
    select * from {{ ref('int_customers_attributed') }}
),

customer_months as {{ inlined() }} (
    select * from {{ ref('int_customer_months_summarised') }}
),

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

months_since as (
    {%- for k in range(0, var('cohort_max_months') + 1) %}
    select {{ k }} as months_since_registration{{ ' union all' if not loop.last }}
    {%- endfor %}
),

cohort_base as (
    select
        {{ period_start('month', 'registered_on') }} as cohort_month,
        channel,
        {{ campaign_key('channel', 'campaign') }} as campaign,
        is_paid
    from customers
),

cohort_sizes as (
    select
        cohort_month,
        case when grouping(channel) = 0 then 'channel' when grouping(campaign) = 0 then 'campaign' else 'all' end
            as dimension,
        case when grouping(channel) = 0 then channel when grouping(campaign) = 0 then campaign else 'all' end
            as dimension_value,
        count(*) as cohort_size,
        sum(case when is_paid then 1 else 0 end) as paid_cohort_size
    from cohort_base
    group by grouping sets ((cohort_month), (cohort_month, channel), (cohort_month, campaign))  -- noqa: PRS
),

activity_base as (
    select
        cohort_month,
        months_since_registration,
        channel,
        {{ campaign_key('channel', 'campaign') }} as campaign,
        is_paid,
        customer_id,
        gross_margin
    from customer_months
    where months_since_registration <= {{ var('cohort_max_months') }}
),

activity as (
    select
        cohort_month,
        months_since_registration,
        case when grouping(channel) = 0 then 'channel' when grouping(campaign) = 0 then 'campaign' else 'all' end
            as dimension,
        case when grouping(channel) = 0 then channel when grouping(campaign) = 0 then campaign else 'all' end
            as dimension_value,
        count(distinct customer_id) as active_customers,
        sum(gross_margin) as gross_margin,
        sum(case when is_paid then gross_margin else 0 end) as paid_gross_margin
    from activity_base
    group by grouping sets (  -- noqa: PRS
        (cohort_month, months_since_registration),
        (cohort_month, months_since_registration, channel),
        (cohort_month, months_since_registration, campaign)
    )
),

spine as (
    select
        cohort_sizes.cohort_month,
        months_since.months_since_registration,
        cast({{ dbt.dateadd('month', 'months_since.months_since_registration', 'cohort_sizes.cohort_month') }} as date)
            as activity_month,
        cohort_sizes.dimension,
        cohort_sizes.dimension_value,
        cohort_sizes.cohort_size,
        cohort_sizes.paid_cohort_size
    from cohort_sizes
    cross join months_since
    cross join as_of
    where cast({{ dbt.dateadd('month', 'months_since.months_since_registration', 'cohort_sizes.cohort_month') }} as date)
        <= as_of.as_of_date
),

joined as (
    select
        spine.cohort_month,
        spine.months_since_registration,
        spine.activity_month,
        spine.dimension,
        spine.dimension_value,
        spine.cohort_size,
        spine.paid_cohort_size,
        coalesce(activity.active_customers, 0) as active_customers,
        coalesce(activity.gross_margin, 0) as gross_margin,
        coalesce(activity.paid_gross_margin, 0) as paid_gross_margin
    from spine
    left join activity
        on spine.cohort_month = activity.cohort_month
        and spine.months_since_registration = activity.months_since_registration
        and spine.dimension = activity.dimension
        and spine.dimension_value = activity.dimension_value
),

cumulated as (
    select
        joined.cohort_month,
        joined.months_since_registration,
        joined.activity_month,
        joined.dimension,
        joined.dimension_value,
        joined.cohort_size,
        joined.paid_cohort_size,
        joined.active_customers,
        joined.gross_margin,
        sum(joined.gross_margin) over (
            partition by joined.cohort_month, joined.dimension, joined.dimension_value
            order by joined.months_since_registration
            rows between unbounded preceding and current row
        ) as cumulative_gross_margin,
        sum(joined.paid_gross_margin) over (
            partition by joined.cohort_month, joined.dimension, joined.dimension_value
            order by joined.months_since_registration
            rows between unbounded preceding and current row
        ) as paid_cumulative_gross_margin,
        (cast({{ dbt.dateadd('month', 1, 'joined.activity_month') }} as date) <= as_of.as_of_date) as is_complete
    from joined
    cross join as_of
),

final as (
    select
        cumulated.*,
        {{ safe_divide('active_customers', 'cohort_size') }} as retention,
        {{ safe_divide('cumulative_gross_margin', 'cohort_size') }} as ltv
    from cumulated
)

select * from final
