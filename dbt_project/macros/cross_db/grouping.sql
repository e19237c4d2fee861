{#- distinct_counts_by_set on Spark: one grouping-sets pass with
    count(distinct), as the models had before. Spark 4.0 has no recursive
    CTE; the one-set-at-a-time form (macros/metric_grouping.sql) answers how
    DuckDB holds distinct pairs, and Spark's memory was not measured. -#}

{% macro spark__distinct_counts_by_set(source_cte, counts, dimensions, grains, with_all) -%}
    select
        {{ metric_grouping_keys(dimensions, grains) }},
        {%- for name, column in counts.items() %}
        count(distinct {{ column }}) as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ source_cte }}
    group by {{ metric_grouping_sets(dimensions, grains, with_all) }}
{%- endmacro %}

{#- DuckDB builds a hash join on the side it estimates smaller. For `answers left
    join orders` that is the answers (31M against 50M orders at 50M): a RIGHT join
    whose build side held every answer's columns and ran out of memory under 512MB;
    built on the orders, the LEFT join spills and passes (int_metric_survey_aggregated:
    17 s, the same result). A model that needs this sets it in a pre-hook and resets it
    in a post-hook. The setting is global to the DuckDB instance, so it is set only
    under a memory limit, when dbt runs one model at a time (profiles.yml). Other
    engines: nothing. -#}
{% macro keep_join_sides(keep) -%}
    {{ return(adapter.dispatch('keep_join_sides', 'flywheel')(keep)) }}
{%- endmacro %}

{% macro default__keep_join_sides(keep) -%}
{%- endmacro %}

{% macro duckdb__keep_join_sides(keep) -%}
    {%- if env_var('FLYWHEEL_DUCKDB_MEMORY_LIMIT', '') -%}
        {{ "set disabled_optimizers = 'build_side_probe_side'" if keep else "reset disabled_optimizers" }}
    {%- endif -%}
{%- endmacro %}
