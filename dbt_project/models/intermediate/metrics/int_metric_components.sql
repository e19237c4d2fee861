{#- One wide row per (grain, period_start, dimension, dimension_value) with
    every metric component (sums and counts from the domain aggregates). A
    component is null where its domain has no rows for the key. customer_base
    (customers registered up to the period end) is a running total of
    new_customers at dimension 'all'. -#}
{%- set sources = metric_components() %}
{%- set ns = namespace(all_components=[]) %}
{%- for model, cols in sources.items() %}
    {%- for c in cols %}
        {%- if c not in ns.all_components %}{% set ns.all_components = ns.all_components + [c] %}{% endif %}
    {%- endfor %}
{%- endfor %}

with unioned as (
    {%- for model, cols in sources.items() %}
    select
        grain,
        period_start,
        dimension,
        dimension_value,
        {%- for c in ns.all_components %}
        {% if c in cols %}cast({{ c }} as double){% else %}cast(null as double){% endif %} as {{ c }}
        {{- ',' if not loop.last }}
        {%- endfor %}
    from {{ ref(model) }}
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

combined as (
    select
        grain,
        period_start,
        dimension,
        dimension_value,
        {%- for c in ns.all_components %}
        {%- if c.startswith('median_') %}
        max({{ c }}) as {{ c }},
        {%- else %}
        sum({{ c }}) as {{ c }},
        {%- endif %}
        {%- endfor %}
        count(*) as source_rows
    from unioned
    group by
        grain,
        period_start,
        dimension,
        dimension_value
),

final as (
    select
        combined.*,
        case
            when combined.dimension = 'all' then sum(coalesce(combined.new_customers, 0)) over (
                partition by combined.grain, combined.dimension
                order by combined.period_start
                rows between unbounded preceding and current row
            )
        end as customer_base
    from combined
)

select * from final
