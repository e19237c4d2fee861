{#- The metric moves owners should hear about (docs/alerts.md), on the newest
    complete period of each grain:
      rule: a rule of seeds/metric_alert_rules.csv whose metric moved beyond
        its tolerance against its baseline (change / |baseline|), with enough
        sample behind it; same_weekday_median_4w applies at day grain only;
      counter: a counter metric that moved the bad way (beyond var
        alert_counter_tolerance, not on a small sample) while the main metric
        it guards improved, for the owners of both.
    The alert sensor delivers them (orchestration/lib/metric_alerts.py),
    adds the contributions and segments behind each, and withholds those
    whose feeds cannot be trusted. alert_key (metric, cut, period, rule) makes
    the same alert go out once. -#}
{{ config(alias='metric_alerts') }}

with rules as (
    select * from {{ ref('stg_seeds__metric_alert_rules') }}
),

tree as (
    select * from {{ ref('stg_seeds__metric_tree') }}
),

metric_values as (
    select * from {{ ref('mart_metric_values') }}
),

-- the newest complete period of each metric and grain
newest as (
    select
        metric,
        grain,
        max(period_start) as period_start
    from metric_values
    where is_complete
        and dimension = 'all'
    group by
        metric,
        grain
),

current_values as (
    select
        metric_values.*,
        rules.baseline,
        rules.tolerance,
        rules.min_sample,
        rules.route
    from metric_values
    inner join newest
        on metric_values.metric = newest.metric
        and metric_values.grain = newest.grain
        and metric_values.period_start = newest.period_start
    inner join rules
        on metric_values.metric = rules.metric
        and metric_values.grain = rules.grain
        and metric_values.dimension = rules.dimension
),

-- day grain: the median of the same weekday over the four weeks before
weekday_medians as (
    select
        current_values.metric,
        current_values.grain,
        current_values.period_start,
        current_values.dimension,
        current_values.dimension_value,
        percentile_cont(0.5) within group (order by earlier.value) as baseline_value,
        count(earlier.value) as baseline_periods
    from current_values
    inner join metric_values as earlier
        on current_values.metric = earlier.metric
        and earlier.grain = 'day'
        and current_values.dimension = earlier.dimension
        and current_values.dimension_value = earlier.dimension_value
        and earlier.period_start in (
            cast({{ dbt.dateadd('day', -7, 'current_values.period_start') }} as date),
            cast({{ dbt.dateadd('day', -14, 'current_values.period_start') }} as date),
            cast({{ dbt.dateadd('day', -21, 'current_values.period_start') }} as date),
            cast({{ dbt.dateadd('day', -28, 'current_values.period_start') }} as date)
        )
    where current_values.baseline = 'same_weekday_median_4w'
        and current_values.grain = 'day'
    group by
        current_values.metric,
        current_values.grain,
        current_values.period_start,
        current_values.dimension,
        current_values.dimension_value
),

rule_checks as (
    select
        current_values.metric,
        current_values.grain,
        current_values.period_start,
        current_values.dimension,
        current_values.dimension_value,
        current_values.baseline,
        current_values.tolerance,
        current_values.min_sample,
        current_values.route,
        current_values.value,
        case current_values.baseline
            when 'previous_period' then current_values.previous_value
            when 'year_earlier' then current_values.year_earlier_value
            -- at least three of the four weeks, or no baseline
            when 'same_weekday_median_4w' then
                case when weekday_medians.baseline_periods >= 3 then weekday_medians.baseline_value end
        end as baseline_value,
        coalesce(
            current_values.sample_size,
            current_values.denominator,
            case when tree.unit not in ('currency', 'ratio', 'score') then current_values.value end
        ) as sample,
        tree.direction,
        tree.unit
    from current_values
    inner join tree
        on current_values.metric = tree.metric
    left join weekday_medians
        on current_values.metric = weekday_medians.metric
        and current_values.grain = weekday_medians.grain
        and current_values.period_start = weekday_medians.period_start
        and current_values.dimension = weekday_medians.dimension
        and current_values.dimension_value = weekday_medians.dimension_value
),

rule_alerts as (
    select
        'rule' as alert_kind,
        metric,
        grain,
        period_start,
        dimension,
        dimension_value,
        baseline,
        value,
        baseline_value,
        value - baseline_value as change,
        -- of the baseline's size: a negative base (NPS -10) keeps the change's sign
        {{ safe_divide('value - baseline_value', 'abs(baseline_value)') }} as change_pct,
        tolerance,
        sample,
        direction,
        unit,
        route as routes,
        cast(null as {{ dbt.type_string() }}) as guarded_metric
    from rule_checks
    where baseline_value is not null
        and baseline_value <> 0
        and abs({{ safe_divide('value - baseline_value', 'abs(baseline_value)') }}) > tolerance
        and (min_sample is null or coalesce(sample, 0) >= min_sample)
),

-- a counter that moved the bad way while the main metric it guards improved
counter_alerts as (
    select
        'counter' as alert_kind,
        counter_value.metric,
        counter_value.grain,
        counter_value.period_start,
        counter_value.dimension,
        counter_value.dimension_value,
        'previous_period' as baseline,
        counter_value.value,
        counter_value.previous_value as baseline_value,
        counter_value.change,
        {{ safe_divide('counter_value.change', 'abs(counter_value.previous_value)') }} as change_pct,
        cast({{ var('alert_counter_tolerance') }} as double) as tolerance,
        cast(coalesce(counter_value.sample_size, counter_value.denominator) as double) as sample,
        counter_tree.direction,
        counter_tree.unit,
        case
            when guarded_tree.metric_function = counter_tree.metric_function then counter_tree.metric_function
            else concat(guarded_tree.metric_function, ',', counter_tree.metric_function)
        end as routes,
        guarded_value.metric as guarded_metric
    from tree as counter_tree
    inner join tree as guarded_tree
        on counter_tree.parent = guarded_tree.metric
    inner join newest
        on counter_tree.metric = newest.metric
        and newest.grain = 'month'
    inner join metric_values as counter_value
        on counter_tree.metric = counter_value.metric
        and counter_value.grain = 'month'
        and counter_value.period_start = newest.period_start
        and counter_value.dimension = 'all'
    inner join metric_values as guarded_value
        on guarded_tree.metric = guarded_value.metric
        and guarded_value.grain = 'month'
        and guarded_value.period_start = newest.period_start
        and guarded_value.dimension = 'all'
    where counter_tree.relation = 'counter'
        -- the guarded metric improved
        and ((guarded_tree.direction = 'higher' and guarded_value.change > 0)
            or (guarded_tree.direction = 'lower' and guarded_value.change < 0))
        -- the counter moved the bad way beyond the tolerance, on a sample large enough
        and abs({{ safe_divide('counter_value.change', 'abs(counter_value.previous_value)') }})
            > {{ var('alert_counter_tolerance') }}
        and not coalesce(counter_value.is_small_sample, false)
        and ((counter_tree.direction = 'higher' and counter_value.change < 0)
            or (counter_tree.direction = 'lower' and counter_value.change > 0))
),

unioned as (
    select * from rule_alerts
    union all
    select * from counter_alerts
)

select
    concat(
        alert_kind, ':', metric, ':', dimension, '=', dimension_value, ':', grain, ':',
        cast(period_start as {{ dbt.type_string() }}), ':', baseline
    ) as alert_key,
    alert_kind,
    metric,
    grain,
    period_start,
    dimension,
    dimension_value,
    baseline,
    value,
    baseline_value,
    change,
    change_pct,
    tolerance,
    sample,
    direction,
    unit,
    ((direction = 'higher' and change > 0) or (direction = 'lower' and change < 0)) as is_good_move,
    case when abs(change_pct) >= 2 * tolerance then 'high' else 'medium' end as severity,
    routes,
    guarded_metric
from unioned
