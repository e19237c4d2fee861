{#- The long metric table: one row per metric of the catalog (macro
    metric_catalog; not those computed_in another model) and key, with numerator, denominator and value. Missing
    components count as 0 once the metric applies to the key: a ratio applies
    where its denominator's domain has data, a sum where its own does. -#}
{%- set components = [] %}
{%- for model, cols in metric_components().items() %}
    {%- for c in cols %}{% if c not in components %}{% do components.append(c) %}{% endif %}{% endfor %}
{%- endfor %}
{%- do components.append('customer_base') %}

with components as (
    select * from {{ ref('int_metric_components') }}
),

filled as (
    select
        grain,
        period_start,
        dimension,
        dimension_value,
        {%- for c in components %}
        coalesce({{ c }}, 0) as {{ c }},
        ({{ c }} is not null) as has_{{ c }}{{ ',' if not loop.last }}
        {%- endfor %}
    from components
),

{%- for m in metric_catalog() if not m.get('computed_in') %}
{%- set den = m.get('denominator') %}

metric_{{ m.metric }} as (
    select
        grain,
        period_start,
        dimension,
        dimension_value,
        '{{ m.metric }}' as metric,
        cast({{ m.numerator }} as double) as numerator,
        {%- if den %}
        cast({{ den }} as double) as denominator,
        {{ m.get('scale', 1) }} * {{ safe_divide(m.numerator, den) }} as value,
        {%- else %}
        cast(null as double) as denominator,
        cast({{ m.numerator }} as double) as value,
        {%- endif %}
        {%- if m.get('sample_size') %}
        cast({{ m.sample_size }} as bigint) as sample_size,
        {%- else %}
        cast(null as bigint) as sample_size,
        {%- endif %}
        '{{ m.get("maturity", "none") }}' as maturity
    from filled
    {#- `where (` would read as a table alias with column names on Spark #}
    where true
        {%- if den %}
        and {{ components_present(den, components) }}
        and not ({{ den }} = 0 and {{ m.numerator }} = 0)
        {%- if m.get('strict') %}
        and {{ components_present(m.numerator, components) }}
        {%- endif %}
        {%- else %}
        and {{ components_present(m.numerator, components) }}
        {%- endif %}
        {%- if m.get('dimensions') %}
        and dimension in ('{{ m.dimensions | join("', '") }}')
        {%- endif %}
        {%- if m.get('grains') %}
        and grain in ('{{ m.grains | join("', '") }}')
        {%- endif %}
),
{%- endfor %}

unioned as (
    {%- for m in metric_catalog() if not m.get('computed_in') %}
    select * from metric_{{ m.metric }}
    {{ 'union all' if not loop.last }}
    {%- endfor %}
)

select * from unioned
