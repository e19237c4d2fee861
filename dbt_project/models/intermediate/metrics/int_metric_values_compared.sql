{#- Each metric value next to the previous period's and the same period a year
    earlier (12 months / 52 ISO weeks / 1 calendar year back), plus
    revenue_yoy. A comparison is null when the other period has no row (no
    data), never 0. is_complete: the period is over by the as-of date and,
    for windowed metrics, so is the activation / attribution window after it. -#}
{%- set yoy = metric_entry('revenue_yoy') %}

with metric_values as (
    select * from {{ ref('int_metric_values_unioned') }}
),

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

compared as (
    {{ compare_with_earlier_periods('metric_values') }}
),

revenue_yoy as (
    select
        '{{ yoy.metric }}' as metric,
        grain,
        period_start,
        dimension,
        dimension_value,
        yoy as value,
        yoy_change as numerator,
        year_earlier_value as denominator,
        sample_size,
        maturity,
        cohort_is_complete
    from compared
    where metric = '{{ yoy.compares }}'
        and year_earlier_value is not null
),

revenue_yoy_compared as (
    {{ compare_with_earlier_periods('revenue_yoy') }}
),

unioned as (
    select * from compared
    union all
    select * from revenue_yoy_compared
),

final as (
    select
        unioned.metric,
        unioned.grain,
        unioned.period_start,
        unioned.dimension,
        unioned.dimension_value,
        unioned.value,
        unioned.numerator,
        unioned.denominator,
        unioned.sample_size,
        unioned.previous_value,
        unioned.change,
        unioned.change_pct,
        unioned.year_earlier_value,
        unioned.yoy_change,
        unioned.yoy,
        case unioned.maturity
            when 'cohort' then coalesce(unioned.cohort_is_complete, false)
            when 'activation' then
                cast({{ dbt.dateadd('day', var('activation_window_days'), shift_period_by_grain('unioned.grain', 'unioned.period_start', 'end')) }} as date)
                <= as_of.as_of_date
            when 'attribution' then
                cast({{ dbt.dateadd('day', var('attribution_window_days'), shift_period_by_grain('unioned.grain', 'unioned.period_start', 'end')) }} as date)
                <= as_of.as_of_date
            else {{ shift_period_by_grain('unioned.grain', 'unioned.period_start', 'end') }} <= as_of.as_of_date
        end as is_complete
    from unioned
    cross join as_of
)

select * from final
