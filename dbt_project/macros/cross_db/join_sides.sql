{#- DuckDB builds a hash join on the side it estimates smaller. For `answers left
    join orders` that is the answers (fewer rows than the orders): a RIGHT join whose
    build side holds every answer's columns and cannot spill them, so it ran out of
    memory under a low limit; built on the orders, the LEFT join spills and passes with
    the same result (measured on int_metric_survey_aggregated: docs/benchmarks.md,
    "50M under memory_limit 512MB"). A model that needs this sets it in a pre-hook and resets it
    in a post-hook. The setting is global to the DuckDB instance, so it is set only
    under a memory limit, when dbt runs one model at a time (profiles.yml), and only
    for a full build: an incremental run's few answers are the right build side.
    The post-hook always resets it (a failed model skips it: the setting then stays
    for the rest of that dbt run, which changes plans, not results). Other engines:
    nothing. -#}
{% macro keep_join_sides(keep) -%}
    {{ return(adapter.dispatch('keep_join_sides', 'flywheel')(keep)) }}
{%- endmacro %}

{% macro default__keep_join_sides(keep) -%}
{%- endmacro %}

{% macro duckdb__keep_join_sides(keep) -%}
    {%- if env_var('FLYWHEEL_DUCKDB_MEMORY_LIMIT', '') -%}
        {%- if not keep -%}
            reset disabled_optimizers
        {%- elif not is_incremental() -%}
            set disabled_optimizers = 'build_side_probe_side'
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
