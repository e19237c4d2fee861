{#- Aggregate once for every grain and dimension: the base CTE carries one
    period column per grain (period_day, period_week, period_month) and one
    column per dimension, named after the dimension; a single GROUP BY
    GROUPING SETS then yields the 'all' rows and each dimension's rows for
    every grain in one pass (distinct counts stay exact per grain).
    Dimension columns must be non-null in the base: use '(none)' for missing. -#}

{% macro period_columns(timestamp_column, grains=none) -%}
    {%- set grains = grains or metric_grains() -%}
    {%- for g in grains -%}
        {{ period_start(g, timestamp_column) }} as period_{{ g }}{{ ',' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}

{#- with_all=false leaves out the 'all' sets, for a model whose 'all' rows
    come from another model: they would be computed only to be dropped.
    extra_columns are added to every set (e.g. a value to count per group). -#}
{% macro metric_grouping_sets(dimensions, grains=none, with_all=true, extra_columns=[]) -%}
    {%- set grains = grains or metric_grains() -%}
    {%- set tail = (', ' ~ extra_columns | join(', ')) if extra_columns else '' -%}
    {%- set sets = [] -%}
    {%- for g in grains -%}
        {%- if with_all -%}{%- do sets.append('(period_' ~ g ~ tail ~ ')') -%}{%- endif -%}
        {%- for d in dimensions -%}{%- do sets.append('(period_' ~ g ~ ', ' ~ d ~ tail ~ ')') -%}{%- endfor -%}
    {%- endfor %}
    grouping sets (
        {{ sets | join(',\n        ') }}
    )
{%- endmacro %}

{% macro metric_grouping_keys(dimensions, grains=none) -%}
    {%- set grains = grains or metric_grains() -%}
    case
        {%- for g in grains %}
        when grouping(period_{{ g }}) = 0 then '{{ g }}'
        {%- endfor %}
    end as grain,
    case
        {%- for g in grains %}
        when grouping(period_{{ g }}) = 0 then period_{{ g }}
        {%- endfor %}
    end as period_start,
    {%- if dimensions | length > 0 %}
    case
        {%- for d in dimensions %}
        when grouping({{ d }}) = 0 then '{{ d }}'
        {%- endfor %}
        else 'all'
    end as dimension,
    case
        {%- for d in dimensions %}
        when grouping({{ d }}) = 0 then cast({{ d }} as {{ dbt.type_string() }})
        {%- endfor %}
        else 'all'
    end as dimension_value
    {%- else %}
    'all' as dimension,
    'all' as dimension_value
    {%- endif %}
{%- endmacro %}

{#- The value shown for a campaign: campaign codes are only unique within a channel. -#}
{% macro campaign_key(channel_column, campaign_column) -%}
    concat({{ channel_column }}, ' / ', {{ campaign_column }})
{%- endmacro %}

{#- Exact distinct counts for the same grouping sets as metric_grouping_sets(),
    as a SELECT of grain, period_start, dimension, dimension_value and one
    column per entry of `counts` (name -> the column counted), over the rows
    of `source_cte` (which carries period_<grain> and the dimension columns,
    non-null). A group without rows in the source has no row here: the caller
    that joins these counts to its sums gives it 0.

    `summed_counts` names counts whose key falls in one period of the finest
    grain only (an order has one order date): they are counted at that grain
    and summed for the coarser ones, which saves their distinct passes.

    Why not count(distinct) among the sums: within one statement DuckDB keeps
    every set's (group, value) pairs until the statement ends; with 15 sets
    that is about 15 pairs per order, which at scale outgrow a memory limit
    and fill the disk with spill; union all and materialized CTEs keep them too.
    Here a recursive CTE computes one count of one set per iteration, and
    DuckDB frees an iteration's hash tables before the next one, so only one
    set's pairs are held at a time. One count per iteration, grouped by the
    step number, the period and the value only: two counts in one iteration
    (the categories' orders and customers), or the step's text labels in the
    groups, ran out of memory again. Keep it in a model of its own: in one
    statement with the sums it holds their memory too and ran out of memory.
    The recursion stops at the first step without rows, which is right
    because every source row falls in every set. The
    source is read again in every iteration, so it should be a plain read of
    a table: joins in it run again in every iteration, and a source
    materialized inside the recursion spilled until the disk was full
    (int_order_payers is that table for the paying customers). Measured:
    docs/benchmarks.md, "50M under memory_limit 2GB", "DuckDB materializes a
    CTE read twice" and "The categories' distinct counts under 512MB".
    Spark (cross_db/grouping.sql) keeps the single grouping-sets
    pass. -#}
{% macro distinct_counts_by_set(source_cte, counts, dimensions, grains=none, with_all=true, summed_counts=[]) -%}
    {{ return(adapter.dispatch('distinct_counts_by_set', 'flywheel')(source_cte, counts, dimensions, grains, with_all, summed_counts)) }}
{%- endmacro %}

{% macro default__distinct_counts_by_set(source_cte, counts, dimensions, grains, with_all, summed_counts) -%}
    {%- set grains = grains or metric_grains() -%}
    {%- set steps = [] -%}
    {%- for g in grains -%}
        {%- set set_dimensions = (['all'] if with_all else []) + dimensions -%}
        {%- for d in set_dimensions -%}
            {%- for name in counts -%}
                {%- if g == grains[0] or name not in summed_counts -%}
                    {%- do steps.append((g, d, name)) -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endfor -%}
    with recursive source_rows as {{ inlined() }} (
        select * from {{ source_cte }}
    ),

    step (step_id, grain, dimension, measure) as (
        values
        {%- for g, d, name in steps %}
        ({{ loop.index }}, '{{ g }}', '{{ d }}', '{{ name }}'){{ ',' if not loop.last }}
        {%- endfor %}
    ),

    by_step as (
        -- the seed row only starts the recursion; the join to step drops it
        select
            0 as step_id,
            cast(null as date) as period_start,
            cast(null as {{ dbt.type_string() }}) as dimension_value,
            cast(null as {{ dbt.type_bigint() }}) as counted
        union all
        select
            step.step_id,
            case step.grain
                {%- for g in grains %}
                when '{{ g }}' then source.period_{{ g }}
                {%- endfor %}
            end as period_start,
            case step.dimension
                when 'all' then 'all'
                {%- for d in dimensions %}
                when '{{ d }}' then cast(source.{{ d }} as {{ dbt.type_string() }})
                {%- endfor %}
            end as dimension_value,
            count(distinct case step.measure
                {%- for name, column in counts.items() %}
                when '{{ name }}' then source.{{ column }}
                {%- endfor %}
            end) as counted
        from (select max(step_id) as step_id from by_step) as done
        inner join step
            on step.step_id = done.step_id + 1
        cross join source_rows as source
        group by 1, 2, 3
    ),

    step_counts as (
        select
            step.grain,
            by_step.period_start,
            step.dimension,
            by_step.dimension_value,
            step.measure,
            by_step.counted
        from by_step
        inner join step
            on step.step_id = by_step.step_id
        {%- for g in grains[1:] if summed_counts %}
        union all
        select
            '{{ g }}' as grain,
            {{ period_start(g, 'by_step.period_start') }} as period_start,
            step.dimension,
            by_step.dimension_value,
            step.measure,
            cast(sum(by_step.counted) as {{ dbt.type_bigint() }}) as counted
        from by_step
        inner join step
            on step.step_id = by_step.step_id
        where step.measure in ('{{ summed_counts | join("', '") }}')
        group by 1, 2, 3, 4, 5
        {%- endfor %}
    )

    select
        grain,
        period_start,
        dimension,
        dimension_value,
        {%- for name in counts %}
        max(case when measure = '{{ name }}' then counted end) as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from step_counts
    group by 1, 2, 3, 4
{%- endmacro %}
