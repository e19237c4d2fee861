{#- Segments for explaining a change (mart_metric_change_explanations): a
    segment is one dimension value (depth 1) or a pair of values of two
    dimensions (depth 2). metric_values already holds the depth-1 segments of
    its own dimensions; int_metric_segments_* add the pairs and the depth-1
    segments of dimensions metric_values does not cut by. -#}

{#- Dimensions nested in another one: a pair of them says nothing the inner
    one does not (a store lies in one region, a campaign in one channel). -#}
{% macro nested_dimensions() -%}
    {{ return([('region', 'store'), ('channel', 'campaign')]) }}
{%- endmacro %}

{% macro explain_grains() -%}
    {{ return(var('explain_grains', ['week', 'month'])) }}
{%- endmacro %}

{#- GROUPING SETS of every pair of `dimensions` (nested pairs left out) and of
    each dimension in `singles`, for each explain grain. The base carries
    period_<grain> and one non-null column per dimension. -#}
{% macro segment_grouping_sets(dimensions, singles=[]) -%}
    {%- set sets = [] -%}
    {%- for g in explain_grains() -%}
        {%- for d in singles -%}{%- do sets.append('(period_' ~ g ~ ', ' ~ d ~ ')') -%}{%- endfor -%}
        {%- for a in dimensions -%}
            {%- for b in dimensions[loop.index:] -%}
                {%- if (a, b) not in nested_dimensions() and (b, a) not in nested_dimensions() -%}
                    {%- do sets.append('(period_' ~ g ~ ', ' ~ a ~ ', ' ~ b ~ ')') -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endfor %}
    grouping sets (
        {{ sets | join(',\n        ') }}
    )
{%- endmacro %}

{#- grain, period_start, depth and the segment's dimension_1 / value_1 and
    dimension_2 / value_2 (null at depth 1), in the order of `dimensions`. -#}
{% macro segment_grouping_keys(dimensions) -%}
    case
        {%- for g in explain_grains() %}
        when grouping(period_{{ g }}) = 0 then '{{ g }}'
        {%- endfor %}
    end as grain,
    case
        {%- for g in explain_grains() %}
        when grouping(period_{{ g }}) = 0 then period_{{ g }}
        {%- endfor %}
    end as period_start,
    ({% for d in dimensions %}(1 - grouping({{ d }})){{ ' + ' if not loop.last }}{% endfor %}) as depth,
    case
        {%- for d in dimensions %}
        when grouping({{ d }}) = 0 then '{{ d }}'
        {%- endfor %}
    end as dimension_1,
    case
        {%- for d in dimensions %}
        when grouping({{ d }}) = 0 then cast({{ d }} as {{ dbt.type_string() }})
        {%- endfor %}
    end as value_1,
    case
        {%- for d in dimensions | reverse %}
        when ({% for e in dimensions %}(1 - grouping({{ e }})){{ ' + ' if not loop.last }}{% endfor %}) = 2
            and grouping({{ d }}) = 0 then '{{ d }}'
        {%- endfor %}
    end as dimension_2,
    case
        {%- for d in dimensions | reverse %}
        when ({% for e in dimensions %}(1 - grouping({{ e }})){{ ' + ' if not loop.last }}{% endfor %}) = 2
            and grouping({{ d }}) = 0 then cast({{ d }} as {{ dbt.type_string() }})
        {%- endfor %}
    end as value_2
{%- endmacro %}

{#- Long metric rows (metric, numerator, denominator) from a CTE of summed
    components, for those metrics of var explain_metrics whose components the
    CTE has. -#}
{% macro segment_metric_rows(components_cte, components) -%}
    {%- set rows = [] -%}
    {%- for metric in var('explain_metrics') -%}
        {%- set m = component_metric_entry(metric) -%}
        {%- set used = modules.re.findall('[a-z_]+', m.numerator ~ ' ' ~ m.get('denominator', '')) -%}
        {%- set unknown = used | reject('in', components) | list -%}
        {%- if used | length > 0 and unknown | length == 0 and not m.get('dimensions') -%}
            {%- do rows.append(m) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for m in rows %}
    select
        '{{ m.metric }}' as metric,
        grain,
        period_start,
        depth,
        dimension_1,
        value_1,
        dimension_2,
        value_2,
        cast({{ m.numerator }} as double) as numerator,
        {%- if m.get('denominator') %}
        cast({{ m.denominator }} as double) as denominator
        {%- else %}
        cast(null as double) as denominator
        {%- endif %}
    from {{ components_cte }}
    {{ 'union all' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- A metric value as a person reads it, by the tree's unit: money with the
    reporting currency, ratios as percentages, scores with two decimals,
    counts whole (two decimals below 100 when not whole). signed=true puts +
    before a positive number; change=true writes a ratio's change in
    percentage points. -#}
{% macro format_metric_value(expression, unit_column, signed=false, change=false) -%}
    {%- set sign -%}
        {%- if signed %}case when {{ expression }} > 0 then '+' else '' end{% else %}''{% endif -%}
    {%- endset -%}
    case
        when {{ expression }} is null then 'n/a'
        when {{ unit_column }} = 'currency' then
            concat({{ sign }}, {{ format_decimal(expression, 0) }}, ' {{ var("reporting_currency") }}')
        when {{ unit_column }} = 'ratio' then
            concat({{ sign }}, {{ format_decimal('100 * (' ~ expression ~ ')', 1) }}, '{{ " pp" if change else "%" }}')
        when {{ unit_column }} = 'score' then
            concat({{ sign }}, {{ format_decimal(expression, 2) }})
        -- counts: whole, unless a small fraction (1.31 orders per customer)
        when abs({{ expression }}) < 100 and {{ rounded_for_text(expression, 2) }} <> {{ rounded_for_text(expression, 0) }} then
            concat({{ sign }}, {{ format_decimal(expression, 2) }})
        else concat({{ sign }}, {{ format_decimal(expression, 0) }})
    end
{%- endmacro %}

{% macro format_percent_change(expression) -%}
    case
        when {{ expression }} is null then 'n/a'
        else concat(case when {{ expression }} > 0 then '+' else '' end, {{ format_decimal('100 * (' ~ expression ~ ')', 1) }}, '%')
    end
{%- endmacro %}
