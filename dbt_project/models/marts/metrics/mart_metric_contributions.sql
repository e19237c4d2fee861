{#- Why a parent metric moved, in its own units: for every identity edge of the
    tree (summand, subtrahend, factor, divisor), every key of metric_values and
    every comparison, the child's contribution to the parent's change. The
    contributions of a parent's children add up to the parent's change
    (tests/assert_contributions_add_up.sql).
      additive (summand / subtrahend): (+/-) weight x (child - child base)
      lmdi (factor / divisor, every value > 0): the log-mean Divisia index,
        L(P, P base) x (+/-) ln(child / child base), L(a, b) = (a - b) / ln(a / b)
      zero_rule (factor, some child 0 in one of the periods, none negative):
        the limit of LMDI as the zero tends to 0: the whole change goes to the
        children that are 0 in either period, in equal parts; 0 to the others
        (a ratio child that is 0 / 0 where the parent is 0 has no value there:
        it gets 0)
      not_decomposable: a factor is negative, or missing while the parent is
        not 0 in either period, or the parent is 0 with no factor 0;
        contributions are null (the parent's change is still shown)
    A missing summand counts as 0, as in the metric catalog.
    Comparisons: previous_period; year_earlier (12 months, 52 weeks, 1 year);
    same_weekday_year_earlier (day grain: 364 days back). is_like_for_like is
    false when the two windows differ in length (months) or one is incomplete;
    comparison_note says which. -#}
{{ config(alias='metric_contributions') }}

with tree as (
    select * from {{ ref('stg_seeds__metric_tree') }}
),

metric_values as (
    select * from {{ ref('mart_metric_values') }}
),

edges as (
    select
        parent as parent_metric,
        metric as child_metric,
        relation,
        weight
    from tree
    where relation in ('summand', 'subtrahend', 'factor', 'divisor')
),

parents as (
    select
        parent_metric,
        count(*) as identity_children,
        max(case when relation in ('factor', 'divisor') then 1 else 0 end) as is_multiplicative
    from edges
    group by parent_metric
),

periods as (
    select distinct
        grain,
        period_start
    from metric_values
    where metric in (select parents.parent_metric from parents)
),

comparisons as (
    select
        grain,
        period_start,
        'previous_period' as comparison,
        {{ shift_period_by_grain('grain', 'period_start', 'previous') }} as base_period_start
    from periods
    union all
    select
        grain,
        period_start,
        'year_earlier' as comparison,
        {{ shift_period_by_grain('grain', 'period_start', 'year_earlier') }} as base_period_start
    from periods
    union all
    select
        grain,
        period_start,
        'same_weekday_year_earlier' as comparison,
        cast({{ dbt.dateadd('day', -364, 'period_start') }} as date) as base_period_start
    from periods
    where grain = 'day'
),

-- a metric's value in the period and in the comparison's base period (either
-- may be missing: a day without orders has no gross margin, only spend)
stacked_values as (
    select
        cur.metric,
        comparisons.grain,
        comparisons.period_start,
        comparisons.comparison,
        comparisons.base_period_start,
        cur.dimension,
        cur.dimension_value,
        cur.value,
        cast(null as double) as base_value,
        case when cur.is_complete then 1 else 0 end as is_complete,
        cast(null as integer) as base_is_complete
    from metric_values as cur
    inner join comparisons
        on cur.grain = comparisons.grain
        and cur.period_start = comparisons.period_start
    where cur.metric in (select edges.parent_metric from edges)
        or cur.metric in (select edges.child_metric from edges)
    union all
    select
        base.metric,
        comparisons.grain,
        comparisons.period_start,
        comparisons.comparison,
        comparisons.base_period_start,
        base.dimension,
        base.dimension_value,
        cast(null as double) as value,
        base.value as base_value,
        cast(null as integer) as is_complete,
        case when base.is_complete then 1 else 0 end as base_is_complete
    from metric_values as base
    inner join comparisons
        on base.grain = comparisons.grain
        and base.period_start = comparisons.base_period_start
    where base.metric in (select edges.parent_metric from edges)
        or base.metric in (select edges.child_metric from edges)
),

compared_values as (
    select
        metric,
        grain,
        period_start,
        comparison,
        base_period_start,
        dimension,
        dimension_value,
        max(value) as value,
        max(base_value) as base_value,
        max(is_complete) = 1 as is_complete,
        max(base_is_complete) = 1 as base_is_complete
    from stacked_values
    group by
        metric,
        grain,
        period_start,
        comparison,
        base_period_start,
        dimension,
        dimension_value
),

parent_changes as (
    select
        compared_values.*,
        parents.identity_children,
        parents.is_multiplicative
    from compared_values
    inner join parents
        on compared_values.metric = parents.parent_metric
    where compared_values.value is not null
        and compared_values.base_value is not null
),

pairs as (
    select
        parent.metric as parent_metric,
        edges.child_metric,
        edges.relation,
        edges.weight,
        parent.grain,
        parent.period_start,
        parent.comparison,
        parent.base_period_start,
        parent.dimension,
        parent.dimension_value,
        parent.identity_children,
        parent.is_multiplicative,
        parent.value as parent_value,
        parent.base_value as parent_base_value,
        child.value as child_value,
        child.base_value as child_base_value,
        (parent.is_complete and parent.base_is_complete
            and coalesce(child.is_complete and child.base_is_complete, true)) as is_complete,
        -- this child stands in the way of LMDI: 0 in one of the periods
        case when child.value = 0 or child.base_value = 0 then 1 else 0 end as is_zero,
        -- this child cannot be decomposed: negative in a product, or missing
        -- while the parent is not 0 in either period (where the parent is 0,
        -- a 0 / 0 ratio beside the zero factor has no value and needs none)
        case
            when parent.is_multiplicative = 0 then 0
            when child.value < 0 or child.base_value < 0 then 1
            when (child.value is null or child.base_value is null)
                and parent.value <> 0 and parent.base_value <> 0 then 1
            else 0
        end as is_blocking
    from parent_changes as parent
    inner join edges
        on parent.metric = edges.parent_metric
    left join compared_values as child
        on edges.child_metric = child.metric
        and parent.grain = child.grain
        and parent.period_start = child.period_start
        and parent.comparison = child.comparison
        and parent.dimension = child.dimension
        and parent.dimension_value = child.dimension_value
),

per_parent as (
    select
        *,
        sum(is_blocking) over (
            partition by parent_metric, grain, period_start, comparison, dimension, dimension_value
        ) as blocking_children,
        sum(is_zero) over (
            partition by parent_metric, grain, period_start, comparison, dimension, dimension_value
        ) as zero_children
    from pairs
),

methods as (
    select
        *,
        case
            when is_multiplicative = 0 then 'additive'
            when blocking_children > 0 then 'not_decomposable'
            when zero_children > 0 then 'zero_rule'
            -- a parent of 0 without a zero factor: the factors do not multiply to it
            when parent_value = 0 or parent_base_value = 0 then 'not_decomposable'
            else 'lmdi'
        end as method,
        -- the logarithmic mean of the parent's two values (LMDI's weight)
        case
            when parent_value > 0 and parent_base_value > 0 and parent_value <> parent_base_value then
                (parent_value - parent_base_value) / ln(parent_value / parent_base_value)
            else parent_value
        end as log_mean
    from per_parent
),

contributed as (
    select
        *,
        case method
            when 'additive' then
                (case when relation = 'subtrahend' then -1 else 1 end) * weight
                * (coalesce(child_value, 0) - coalesce(child_base_value, 0))
            when 'lmdi' then
                (case when relation = 'divisor' then -1 else 1 end) * log_mean * ln(child_value / child_base_value)
            when 'zero_rule' then
                case when is_zero = 1 then (parent_value - parent_base_value) / zero_children else 0 end
        end as contribution
    from methods
),

final as (
    select
        contributed.parent_metric,
        contributed.child_metric,
        contributed.relation,
        contributed.grain,
        contributed.period_start,
        contributed.comparison,
        contributed.base_period_start,
        contributed.dimension,
        contributed.dimension_value,
        contributed.method,
        contributed.parent_value,
        contributed.parent_base_value,
        contributed.parent_value - contributed.parent_base_value as parent_change,
        {{ safe_divide('contributed.parent_value', 'contributed.parent_base_value') }} - 1 as parent_change_pct,
        contributed.child_value,
        contributed.child_base_value,
        contributed.child_value - contributed.child_base_value as child_change,
        {{ safe_divide('contributed.child_value', 'contributed.child_base_value') }} - 1 as child_change_pct,
        contributed.contribution,
        {{ safe_divide('contributed.contribution', 'contributed.parent_value - contributed.parent_base_value') }}
            as share_of_change,
        contributed.is_complete,
        cast({{ dbt.datediff('contributed.period_start', shift_period_by_grain('contributed.grain', 'contributed.period_start', 'end'), 'day') }}
            as bigint) as window_days,
        cast({{ dbt.datediff('contributed.base_period_start', shift_period_by_grain('contributed.grain', 'contributed.base_period_start', 'end'), 'day') }}
            as bigint) as base_window_days
    from contributed
)

select
    final.*,
    (final.is_complete and final.window_days = final.base_window_days) as is_like_for_like,
    case
        when not final.is_complete then 'a period (or its window) is not complete yet'
        when final.window_days <> final.base_window_days then
            concat('windows differ: ', cast(final.window_days as {{ dbt.type_string() }}), ' vs ',
                cast(final.base_window_days as {{ dbt.type_string() }}), ' days')
    end as comparison_note,
    concat(
        replace(final.child_metric, '_', ' '), ' ',
        {{ format_percent_change('final.child_change_pct') }}, ' (',
        {{ format_metric_value('final.child_base_value', 'child_tree.unit') }}, ' to ',
        {{ format_metric_value('final.child_value', 'child_tree.unit') }}, '): ',
        case
            when final.contribution is null then 'not decomposable here'
            else {{ format_metric_value('final.contribution', 'parent_tree.unit', signed=true, change=true) }}
        end,
        ' of the ', replace(final.parent_metric, '_', ' '), ' change, ',
        {{ format_metric_value('final.parent_change', 'parent_tree.unit', signed=true, change=true) }}, ' (',
        {{ format_percent_change('final.parent_change_pct') }}, ').'
    ) as sentence
from final
left join tree as child_tree
    on final.child_metric = child_tree.metric
left join tree as parent_tree
    on final.parent_metric = parent_tree.metric
