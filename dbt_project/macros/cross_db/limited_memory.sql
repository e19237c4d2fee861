{#- DuckDB settings that a model needs only under a memory limit
    (FLYWHEEL_DUCKDB_MEMORY_LIMIT): the model sets one in a pre-hook,
    `limited_memory_setting(name, value, true)`, and resets it in a post-hook,
    `limited_memory_setting(name, value, false)`. A setting is global to the
    DuckDB instance, so it is set only under a limit, when dbt runs one model
    at a time (profiles.yml), and only for a full build: an incremental run
    reads a few periods and keeps DuckDB's defaults. The post-hook always
    resets (a failed model skips it: the setting then stays for the rest of
    that dbt run, which changes plans and speed, not results). Other engines:
    nothing. -#}
{% macro limited_memory_setting(name, value, on) -%}
    {{ return(adapter.dispatch('limited_memory_setting', 'flywheel')(name, value, on)) }}
{%- endmacro %}

{% macro default__limited_memory_setting(name, value, on) -%}
{%- endmacro %}

{% macro duckdb__limited_memory_setting(name, value, on) -%}
    {%- if env_var('FLYWHEEL_DUCKDB_MEMORY_LIMIT', '') -%}
        {%- if not on -%}
            reset {{ name }}
        {%- elif not is_incremental() -%}
            set {{ name }} = {{ value }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- DuckDB builds a hash join on the side it estimates smaller. For `answers left
    join orders` that is the answers (31M against 50M orders at 50M): a RIGHT join
    whose build side held every answer's columns and ran out of memory under 512MB;
    built on the orders, the LEFT join spills and passes (int_metric_survey_aggregated:
    17 s, the same result). -#}
{% macro keep_join_sides(keep) -%}
    {{ limited_memory_setting('disabled_optimizers', "'build_side_probe_side'", keep) }}
{%- endmacro %}

{#- One DuckDB thread: each thread keeps hash tables of its own, and the distinct
    counts of int_metric_categories_aggregated (118M item lines at 50M orders) ran
    out of memory under 512MB on two threads and passed on one (docs/benchmarks.md). -#}
{% macro one_thread(on) -%}
    {{ limited_memory_setting('threads', '1', on) }}
{%- endmacro %}
