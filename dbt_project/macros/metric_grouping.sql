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
