{#- Every segment of var explain_metrics at the explain grains, measured
    against the previous period and the same period a year earlier, and kept
    when it is above the noise floors: the candidates that
    mart_metric_change_explanations selects from (that model's header and
    docs/metrics.md, "Explaining a change", say how each column is computed).
    A table of its own so the selection reads a small table (on Spark, a CTE
    read several times is computed again each time). -#}
{%- set metrics = var('explain_metrics') %}
{%- set min_effect = var('explain_min_effect') %}
{%- set min_size = var('explain_min_segment_size') %}
{%- set item_level_metrics = ['revenue', 'cogs', 'gross_margin'] %}
{%- set distinct_count_metrics = ['paying_customers'] %}

with metric_values as (
    select * from {{ ref('mart_metric_values') }}
    where metric in ('{{ metrics | join("', '") }}')
        and grain in ('{{ explain_grains() | join("', '") }}')
),

-- ratio or sum, and the scale of a ratio: from the metric catalog
catalog as (
    {%- for metric in metrics %}
    {%- set m = component_metric_entry(metric) %}
    select
        '{{ metric }}' as metric,
        {{ 'true' if m.get('denominator') else 'false' }} as is_ratio,
        cast({{ m.get('scale', 1) }} as double) as scale,
        '{{ m.get("denominator", "") | replace("_", " ") }}' as denominator_label
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

extra_segments as (
    select * from {{ ref('int_metric_segments_orders') }}
    union all
    select * from {{ ref('int_metric_segments_survey') }}
),

segments as (
    select
        metric,
        grain,
        period_start,
        1 as depth,
        dimension as dimension_1,
        dimension_value as value_1,
        cast(null as {{ dbt.type_string() }}) as dimension_2,
        cast(null as {{ dbt.type_string() }}) as value_2,
        numerator,
        denominator
    from metric_values
    where dimension <> 'all'
        -- an order holds several categories: only sums over items split by category
        and (dimension <> 'category' or metric in ('{{ item_level_metrics | join("', '") }}'))
    union all
    select
        metric,
        grain,
        period_start,
        depth,
        dimension_1,
        value_1,
        dimension_2,
        value_2,
        numerator,
        denominator
    from extra_segments
),

labelled_segments as (
    select
        *,
        case
            when depth = 1 then concat(dimension_1, ' ', value_1)
            else concat(dimension_1, ' ', value_1, ' & ', dimension_2, ' ', value_2)
        end as segment
    from segments
),

totals as (
    select
        metric,
        grain,
        period_start,
        value,
        numerator,
        denominator,
        is_complete
    from metric_values
    where dimension = 'all'
),

comparisons as (
    select
        metric,
        grain,
        period_start,
        'previous_period' as comparison,
        {{ shift_period_by_grain('grain', 'period_start', 'previous') }} as base_period_start
    from totals
    union all
    select
        metric,
        grain,
        period_start,
        'year_earlier' as comparison,
        {{ shift_period_by_grain('grain', 'period_start', 'year_earlier') }} as base_period_start
    from totals
),

compared_totals as (
    select
        comparisons.metric,
        comparisons.grain,
        comparisons.period_start,
        comparisons.comparison,
        comparisons.base_period_start,
        cur.value as total_value,
        base.value as total_base_value,
        cur.numerator as total_numerator,
        base.numerator as total_base_numerator,
        cur.denominator as total_denominator,
        base.denominator as total_base_denominator,
        (cur.is_complete and base.is_complete) as is_complete
    from comparisons
    inner join totals as cur
        on comparisons.metric = cur.metric
        and comparisons.grain = cur.grain
        and comparisons.period_start = cur.period_start
    inner join totals as base
        on comparisons.metric = base.metric
        and comparisons.grain = base.grain
        and base.period_start = comparisons.base_period_start
    where cur.value is not null
        and base.value is not null
),

-- each segment's numerator and denominator in both periods (0 where it had no rows)
stacked as (
    select
        compared_totals.metric,
        compared_totals.grain,
        compared_totals.period_start,
        compared_totals.comparison,
        labelled_segments.segment,
        labelled_segments.depth,
        labelled_segments.dimension_1,
        labelled_segments.value_1,
        labelled_segments.dimension_2,
        labelled_segments.value_2,
        labelled_segments.numerator as n1,
        labelled_segments.denominator as d1,
        cast(0 as double) as n0,
        cast(0 as double) as d0
    from compared_totals
    inner join labelled_segments
        on compared_totals.metric = labelled_segments.metric
        and compared_totals.grain = labelled_segments.grain
        and compared_totals.period_start = labelled_segments.period_start
    union all
    select
        compared_totals.metric,
        compared_totals.grain,
        compared_totals.period_start,
        compared_totals.comparison,
        labelled_segments.segment,
        labelled_segments.depth,
        labelled_segments.dimension_1,
        labelled_segments.value_1,
        labelled_segments.dimension_2,
        labelled_segments.value_2,
        cast(0 as double) as n1,
        cast(0 as double) as d1,
        labelled_segments.numerator as n0,
        labelled_segments.denominator as d0
    from compared_totals
    inner join labelled_segments
        on compared_totals.metric = labelled_segments.metric
        and compared_totals.grain = labelled_segments.grain
        and compared_totals.base_period_start = labelled_segments.period_start
),

paired as (
    select
        metric,
        grain,
        period_start,
        comparison,
        segment,
        depth,
        dimension_1,
        value_1,
        dimension_2,
        value_2,
        sum(n1) as n1,
        sum(coalesce(d1, 0)) as d1,
        sum(n0) as n0,
        sum(coalesce(d0, 0)) as d0
    from stacked
    group by
        metric,
        grain,
        period_start,
        comparison,
        segment,
        depth,
        dimension_1,
        value_1,
        dimension_2,
        value_2
),

shares as (
    select
        paired.*,
        compared_totals.base_period_start,
        compared_totals.total_value,
        compared_totals.total_base_value,
        compared_totals.total_numerator,
        compared_totals.total_base_numerator,
        compared_totals.total_denominator,
        compared_totals.total_base_denominator,
        compared_totals.is_complete,
        catalog.is_ratio,
        catalog.scale,
        catalog.denominator_label,
        -- sums: the segment's value; ratios: its own ratio (the other
        -- period's where it had no denominator, so it has no rate effect)
        case when catalog.is_ratio then
            coalesce(catalog.scale * {{ safe_divide('paired.n1', 'paired.d1') }},
                catalog.scale * {{ safe_divide('paired.n0', 'paired.d0') }})
            else paired.n1
        end as segment_value,
        case when catalog.is_ratio then
            coalesce(catalog.scale * {{ safe_divide('paired.n0', 'paired.d0') }},
                catalog.scale * {{ safe_divide('paired.n1', 'paired.d1') }})
            else paired.n0
        end as segment_base_value,
        coalesce({{ safe_divide('paired.d1', 'compared_totals.total_denominator') }}, 0) as weight,
        coalesce({{ safe_divide('paired.d0', 'compared_totals.total_base_denominator') }}, 0) as base_weight,
        -- the rest of the data: the total without the segment (0, not rounding
        -- noise, where the segment is all of it); none for a distinct count,
        -- where a customer counts in every segment they bought in
        case when paired.metric in ('{{ distinct_count_metrics | join("', '") }}') then null
            when catalog.is_ratio then
            catalog.scale * {{ safe_divide('compared_totals.total_numerator - paired.n1', 'compared_totals.total_denominator - paired.d1') }}
            when abs(compared_totals.total_value - paired.n1) <= 1e-9 * abs(compared_totals.total_value) then 0
            else compared_totals.total_value - paired.n1
        end as rest_value,
        case when paired.metric in ('{{ distinct_count_metrics | join("', '") }}') then null
            when catalog.is_ratio then
            catalog.scale * {{ safe_divide('compared_totals.total_base_numerator - paired.n0', 'compared_totals.total_base_denominator - paired.d0') }}
            when abs(compared_totals.total_base_value - paired.n0) <= 1e-9 * abs(compared_totals.total_base_value) then 0
            else compared_totals.total_base_value - paired.n0
        end as rest_base_value
    from paired
    inner join compared_totals
        on paired.metric = compared_totals.metric
        and paired.grain = compared_totals.grain
        and paired.period_start = compared_totals.period_start
        and paired.comparison = compared_totals.comparison
    inner join catalog
        on paired.metric = catalog.metric
),

effects as (
    select
        *,
        case when is_ratio then
            (weight - base_weight)
            * ((segment_value + segment_base_value) / 2 - (total_value + total_base_value) / 2)
        end as mix_effect,
        case when is_ratio then
            (weight + base_weight) / 2 * (segment_value - segment_base_value)
        end as rate_effect,
        {{ safe_divide('rest_value', 'rest_base_value') }} - 1 as rest_change_pct,
        -- the metric's size, so a ratio near 0 (NPS from +3 to -3) keeps a floor
        (abs(total_value) + abs(total_base_value)) / 2 as metric_level
    from shares
),

measured as (
    select
        *,
        case when is_ratio then mix_effect + rate_effect else segment_value - segment_base_value end as contribution,
        case when is_ratio then
            mix_effect + (weight + base_weight) / 2
            * ((segment_value - segment_base_value) - (total_value - total_base_value))
            else (segment_value - segment_base_value)
                - segment_base_value * coalesce({{ safe_divide('total_value', 'total_base_value') }} - 1, 0)
        end as unexpected_change
    from effects
),

above_noise as (
    select *
    from measured
    where abs(unexpected_change) >= {{ min_effect }} * metric_level
        and abs(contribution) >= {{ min_effect }} * metric_level
        and abs(unexpected_change) > 0
        and (not is_ratio or greatest(d1, d0) >= {{ min_size }})
)

select * from above_noise
