{#- distinct_counts_by_set on Spark: one grouping-sets pass with
    count(distinct), as the models had before. Spark 4.0 has no recursive
    CTE; the one-set-at-a-time form (macros/metric_grouping.sql) answers how
    DuckDB holds distinct pairs, and Spark's memory was not measured. It
    counts summed_counts directly at every grain: the same numbers. -#}

{% macro spark__distinct_counts_by_set(source_cte, counts, dimensions, grains, with_all, summed_counts) -%}
    select
        {{ metric_grouping_keys(dimensions, grains) }},
        {%- for name, column in counts.items() %}
        count(distinct {{ column }}) as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ source_cte }}
    group by {{ metric_grouping_sets(dimensions, grains, with_all) }}
{%- endmacro %}
