{#- The metric registry (macro metric_catalog) as rows: one per metric or
    metric family, with what people read about it and the grains it declares.
    metric_tree takes its descriptions from here; the data tests
    assert_tree_metrics_are_registered and assert_tree_metrics_have_values
    hold the tree and the values to it. -#}
{%- set entries = metric_catalog() %}

with registry as (
    {%- for m in entries %}
    select
        {{ "'" ~ m.metric ~ "'" if m.get('metric') else 'cast(null as ' ~ dbt.type_string() ~ ')' }} as metric,
        {{ "'" ~ m.metric_prefix ~ "'" if m.get('metric_prefix') else 'cast(null as ' ~ dbt.type_string() ~ ')' }} as metric_prefix,
        '{{ m.section }}' as section,
        {{ "'" ~ dbt.escape_single_quotes(m.description) ~ "'" if m.get('description') else 'cast(null as ' ~ dbt.type_string() ~ ')' }} as description,
        {{ "'" ~ m.suffix ~ "'" if m.get('suffix') else 'cast(null as ' ~ dbt.type_string() ~ ')' }} as suffix,
        '{{ m.get('grains', var('metric_grains')) | join(',') }}' as grains,
        '{{ m.get('computed_in', 'int_metric_values_computed') }}' as computed_in
    {{ 'union all' if not loop.last }}
    {%- endfor %}
)

select * from registry
