{#- The segments behind a metric's change: for each metric of var
    explain_metrics, explain grain, period and comparison (previous_period,
    year_earlier), the few segments (one dimension value, or a pair of values
    of two dimensions) that carry most of the change and moved unlike the
    metric as a whole.
    Method (docs/metrics.md, "Explaining a change"):
      sums: contribution = the segment's own change; unexpected_change = the
        contribution less what the segment would have changed had it moved
        at the metric's own rate (base value x the metric's change %).
      ratios (numerator / denominator, e.g. qualified leads / leads): with w
        the segment's share of the denominator and r its own ratio,
          mix  = (w - w base) x (mean of its r - mean of the total's ratio)
          rate = mean of its w x (r - r base)
        contribution = mix + rate; over the values of one dimension they add
        up to the ratio's change exactly. unexpected_change = mix + mean w
        x (its change of r - the metric's change).
      Over the values of one dimension the unexpected changes add up to 0: a
      metric that moved evenly everywhere has no segment behind its change.
      rest_* columns show the data without the segment, for the reader.
    A segment is a candidate when both |contribution| and
    |unexpected_change| reach var explain_min_effect of the metric's level
    (and, for ratios, its denominator reaches var explain_min_segment_size in
    one period); of two with the very same rows that share a dimension value
    or are values of two dimensions, the shorter one. A segment
    inside another candidate (a pair inside one of its values, a campaign
    inside its channel, a store inside its region) replaces it when it
    carries var explain_absorb_share of its unexpected change with the same
    sign and no sibling (cut by the same dimensions) moves that way too; it
    is left out otherwise. The rest are ranked by |contribution| (the part of
    the change they carry), then |unexpected_change|, then segment text
    (deterministic), at most var explain_max_segments. The floor on
    unexpected_change keeps out segments that only moved with everything
    else; ranking by it instead would put first the large segment that held
    steady while a small one fell (the other side of the same sum).
    Segments of different dimensions may overlap (a store and a channel):
    their contributions are each a part of the change, not parts to add. -#}
{{ config(alias='metric_change_explanations') }}
{%- set absorb = var('explain_absorb_share') %}
{%- set max_segments = var('explain_max_segments') %}
{%- set segment_keys = 'metric, grain, period_start, comparison' %}
{%- set money_metrics = ['revenue', 'cogs', 'gross_margin', 'marketing_spend'] %}

with above_noise as (
    select * from {{ ref('int_metric_change_candidates') }}
),

stores as (
    select * from {{ ref('stg_seeds__stores') }}
),

tree as (
    select * from {{ ref('stg_seeds__metric_tree') }}
),

-- two segments with the very same rows that share a dimension value (a store
-- without a region and its region '(none)', each paired with the web), or two
-- values of different dimensions (sales channel 'store' and fulfilment
-- 'in_store'): one tells both, the shorter one, else the first by name. Two
-- values of one dimension never hold the same rows, whatever their figures.
duplicates as (
    select distinct
        later.metric,
        later.grain,
        later.period_start,
        later.comparison,
        later.segment
    from above_noise as later
    inner join above_noise as earlier
        on later.metric = earlier.metric
        and later.grain = earlier.grain
        and later.period_start = earlier.period_start
        and later.comparison = earlier.comparison
        and later.n1 = earlier.n1
        and later.d1 = earlier.d1
        and later.n0 = earlier.n0
        and later.d0 = earlier.d0
        -- equal counts can be a coincidence (40 -> 25 leads in a channel and a
        -- region); equal numerators and denominators, or equal sums of money, are not
        and (later.is_ratio or later.metric in ('{{ money_metrics | join("', '") }}'))
        and (earlier.depth < later.depth or (earlier.depth = later.depth and earlier.segment < later.segment))
        and (
            (later.depth = 1 and earlier.depth = 1 and later.dimension_1 <> earlier.dimension_1)
            or (later.dimension_1 = earlier.dimension_1 and later.value_1 = earlier.value_1)
            or (later.dimension_1 = earlier.dimension_2 and later.value_1 = earlier.value_2)
            or (later.dimension_2 = earlier.dimension_1 and later.value_2 = earlier.value_1)
            or (later.dimension_2 = earlier.dimension_2 and later.value_2 = earlier.value_2)
        )
),

candidates as (
    select above_noise.*
    from above_noise
    left join duplicates
        on above_noise.metric = duplicates.metric
        and above_noise.grain = duplicates.grain
        and above_noise.period_start = duplicates.period_start
        and above_noise.comparison = duplicates.comparison
        and above_noise.segment = duplicates.segment
    where duplicates.segment is null
),

-- a segment's dimension values, and those they imply (a campaign its
-- channel, a store its region): segment B lies inside segment A when every
-- value of A is among B's implied values
candidate_values as (
    select {{ segment_keys }}, segment, dimension_1 as dimension, value_1 as dimension_value
    from candidates
    union all
    select {{ segment_keys }}, segment, dimension_2 as dimension, value_2 as dimension_value
    from candidates
    where depth = 2
),

implied_values as (
    -- union, not union all: a value implied twice (a campaign's channel beside the
    -- channel itself) is one value of the segment
    select {{ segment_keys }}, segment, dimension, dimension_value
    from candidate_values
    union
    select {{ segment_keys }}, segment, 'channel' as dimension,
        {{ dbt.split_part('dimension_value', "' / '", 1) }} as dimension_value
    from candidate_values
    where dimension = 'campaign'
    union
    select candidate_values.metric, candidate_values.grain, candidate_values.period_start,
        candidate_values.comparison, candidate_values.segment, 'region' as dimension,
        stores.region as dimension_value
    from candidate_values
    inner join stores
        on candidate_values.dimension = 'store'
        and candidate_values.dimension_value = stores.store_id
),

nesting as (
    select
        outer_values.metric,
        outer_values.grain,
        outer_values.period_start,
        outer_values.comparison,
        outer_values.segment as outer_segment,
        inner_values.segment as inner_segment
    from candidate_values as outer_values
    inner join implied_values as inner_values
        on outer_values.metric = inner_values.metric
        and outer_values.grain = inner_values.grain
        and outer_values.period_start = inner_values.period_start
        and outer_values.comparison = inner_values.comparison
        and outer_values.dimension = inner_values.dimension
        and outer_values.dimension_value = inner_values.dimension_value
        and outer_values.segment <> inner_values.segment
    inner join candidates as outer_segment
        on outer_values.metric = outer_segment.metric
        and outer_values.grain = outer_segment.grain
        and outer_values.period_start = outer_segment.period_start
        and outer_values.comparison = outer_segment.comparison
        and outer_values.segment = outer_segment.segment
    group by
        outer_values.metric,
        outer_values.grain,
        outer_values.period_start,
        outer_values.comparison,
        outer_values.segment,
        inner_values.segment,
        outer_segment.depth
    -- every value of the outer segment is among the inner one's (implied_values holds
    -- each value once, so count(*) counts the outer values matched: no distinct
    -- aggregate, which DuckDB cannot spill: docs/benchmarks.md)
    having count(*) = outer_segment.depth
),

nested_effects as (
    select
        nesting.*,
        outer_segment.unexpected_change as outer_difference,
        inner_segment.unexpected_change as inner_difference,
        -- what the inner segment cuts the outer one by (campaign in a channel,
        -- customer_type in 'region Central & customer_type returning'): the
        -- inner segments cut by the same dimensions are siblings
        concat(
            case
                when inner_segment.dimension_1 in (outer_segment.dimension_1, coalesce(outer_segment.dimension_2, ''))
                    then '' else inner_segment.dimension_1
            end,
            '|',
            case
                when inner_segment.dimension_2 is null
                    or inner_segment.dimension_2 in (outer_segment.dimension_1, coalesce(outer_segment.dimension_2, ''))
                    then '' else inner_segment.dimension_2
            end
        ) as cut_by
    from nesting
    inner join candidates as outer_segment
        on nesting.metric = outer_segment.metric
        and nesting.grain = outer_segment.grain
        and nesting.period_start = outer_segment.period_start
        and nesting.comparison = outer_segment.comparison
        and nesting.outer_segment = outer_segment.segment
    inner join candidates as inner_segment
        on nesting.metric = inner_segment.metric
        and nesting.grain = inner_segment.grain
        and nesting.period_start = inner_segment.period_start
        and nesting.comparison = inner_segment.comparison
        and nesting.inner_segment = inner_segment.segment
),

-- per outer segment and cut: how many inner candidates move its way
siblings as (
    select
        metric,
        grain,
        period_start,
        comparison,
        outer_segment,
        cut_by,
        sum(case when outer_difference * inner_difference > 0 then 1 else 0 end) as same_way
    from nested_effects
    group by
        metric,
        grain,
        period_start,
        comparison,
        outer_segment,
        cut_by
),

-- an outer segment that one segment inside it carries (the only one of its
-- cut that moves its way, with at least var explain_absorb_share of its
-- unexpected change): replaced by that one. Two campaigns of a channel
-- falling together leave the channel as the story.
absorptions as (
    select
        nested_effects.metric,
        nested_effects.grain,
        nested_effects.period_start,
        nested_effects.comparison,
        nested_effects.outer_segment,
        nested_effects.inner_segment
    from nested_effects
    inner join siblings
        on nested_effects.metric = siblings.metric
        and nested_effects.grain = siblings.grain
        and nested_effects.period_start = siblings.period_start
        and nested_effects.comparison = siblings.comparison
        and nested_effects.outer_segment = siblings.outer_segment
        and nested_effects.cut_by = siblings.cut_by
    where nested_effects.outer_difference * nested_effects.inner_difference > 0
        and abs(nested_effects.inner_difference) >= {{ absorb }} * abs(nested_effects.outer_difference)
        and siblings.same_way = 1
),

absorbed as (
    select distinct metric, grain, period_start, comparison, outer_segment as segment
    from absorptions
),

-- the inner segments that replaced an outer one: they stay, whatever else
-- holds them
absorbers as (
    select distinct metric, grain, period_start, comparison, inner_segment as segment
    from absorptions
),

-- an inner segment whose outer segment stays: already told by it
covered as (
    select distinct
        nested_effects.metric,
        nested_effects.grain,
        nested_effects.period_start,
        nested_effects.comparison,
        nested_effects.inner_segment as segment
    from nested_effects
    left join absorbed
        on nested_effects.metric = absorbed.metric
        and nested_effects.grain = absorbed.grain
        and nested_effects.period_start = absorbed.period_start
        and nested_effects.comparison = absorbed.comparison
        and nested_effects.outer_segment = absorbed.segment
    left join absorbers
        on nested_effects.metric = absorbers.metric
        and nested_effects.grain = absorbers.grain
        and nested_effects.period_start = absorbers.period_start
        and nested_effects.comparison = absorbers.comparison
        and nested_effects.inner_segment = absorbers.segment
    where absorbed.segment is null
        and absorbers.segment is null
),

kept as (
    select
        candidates.*,
        row_number() over (
            partition by candidates.metric, candidates.grain, candidates.period_start, candidates.comparison
            order by abs(candidates.contribution) desc, abs(candidates.unexpected_change) desc, candidates.segment
        ) as segment_rank
    from candidates
    left join absorbed
        on candidates.metric = absorbed.metric
        and candidates.grain = absorbed.grain
        and candidates.period_start = absorbed.period_start
        and candidates.comparison = absorbed.comparison
        and candidates.segment = absorbed.segment
    left join covered
        on candidates.metric = covered.metric
        and candidates.grain = covered.grain
        and candidates.period_start = covered.period_start
        and candidates.comparison = covered.comparison
        and candidates.segment = covered.segment
    where absorbed.segment is null
        and covered.segment is null
),

final as (
    select
        kept.metric,
        kept.grain,
        kept.period_start,
        kept.comparison,
        kept.base_period_start,
        cast(kept.segment_rank as bigint) as segment_rank,
        kept.segment,
        cast(kept.depth as bigint) as depth,
        kept.dimension_1,
        kept.value_1,
        kept.dimension_2,
        kept.value_2,
        kept.total_value as metric_value,
        kept.total_base_value as metric_base_value,
        kept.total_value - kept.total_base_value as metric_change,
        {{ safe_divide('kept.total_value', 'kept.total_base_value') }} - 1 as metric_change_pct,
        kept.contribution,
        {{ safe_divide('kept.contribution', 'kept.total_value - kept.total_base_value') }} as share_of_change,
        kept.mix_effect,
        kept.rate_effect,
        kept.unexpected_change,
        kept.segment_value,
        kept.segment_base_value,
        case when kept.is_ratio then kept.d1 else kept.n1 end as segment_size,
        case when kept.is_ratio then kept.d0 else kept.n0 end as segment_base_size,
        kept.weight as segment_share,
        kept.base_weight as segment_base_share,
        kept.rest_value,
        kept.rest_base_value,
        kept.rest_change_pct,
        kept.is_complete,
        tree.unit,
        tree.direction,
        kept.is_ratio,
        kept.denominator_label
    from kept
    left join tree
        on kept.metric = tree.metric
    where kept.segment_rank <= {{ max_segments }}
)

select
    metric,
    grain,
    period_start,
    comparison,
    base_period_start,
    segment_rank,
    segment,
    depth,
    dimension_1,
    value_1,
    dimension_2,
    value_2,
    metric_value,
    metric_base_value,
    metric_change,
    metric_change_pct,
    contribution,
    share_of_change,
    mix_effect,
    rate_effect,
    unexpected_change,
    segment_value,
    segment_base_value,
    segment_size,
    segment_base_size,
    segment_share,
    segment_base_share,
    rest_value,
    rest_base_value,
    rest_change_pct,
    is_complete,
    unit,
    direction,
    case
        when is_ratio then concat(
            segment, ': ', replace(metric, '_', ' '), ' ',
            {{ format_metric_value('segment_base_value', 'unit') }}, ' to ',
            {{ format_metric_value('segment_value', 'unit') }}, ' on ',
            {{ format_decimal('segment_base_size', 0) }}, ' to ', {{ format_decimal('segment_size', 0) }}, ' ',
            denominator_label,
            case
                when rest_value is null or rest_base_value is null then ''
                else concat(' (rest of the data ', {{ format_metric_value('rest_base_value', 'unit') }}, ' to ',
                    {{ format_metric_value('rest_value', 'unit') }}, ')')
            end,
            '; mix ',
            {{ format_metric_value('mix_effect', 'unit', signed=true, change=true) }}, ', rate ',
            {{ format_metric_value('rate_effect', 'unit', signed=true, change=true) }}, ': ',
            {{ format_metric_value('contribution', 'unit', signed=true, change=true) }}, ' of the ',
            {{ format_metric_value('metric_change', 'unit', signed=true, change=true) }}, ' change.')
        else concat(
            segment, ': ', replace(metric, '_', ' '), ' ',
            {{ format_metric_value('segment_base_value', 'unit') }}, ' to ',
            {{ format_metric_value('segment_value', 'unit') }}, ' (',
            {{ format_metric_value('contribution', 'unit', signed=true) }}, ', ',
            {{ format_percent_change(safe_divide('segment_value', 'segment_base_value') ~ ' - 1') }},
            ')',
            case
                when rest_change_pct is null then ''
                else concat(' while the rest moved ', {{ format_percent_change('rest_change_pct') }})
            end,
            '; ',
            {{ format_metric_value('contribution', 'unit', signed=true) }}, ' of the ',
            {{ format_metric_value('metric_change', 'unit', signed=true) }}, ' change.')
    end as sentence
from final
