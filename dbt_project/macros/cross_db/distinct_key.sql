{#- The value a distinct count counts. On DuckDB a 64-bit hash of the id:
    with ids longer than 12 characters every distinct key carried a string on
    a heap, and the distinct customers per day and category over 118M item
    lines ran out of memory under 512MB in 5 to 10 s; over the hash the same
    count took 18.6 s (docs/benchmarks.md). Exact only while no two ids share
    a hash: the test hash_collision_free on the id's staging model guards it.
    Other engines count the id itself. -#}
{% macro distinct_key(column) -%}
    {{ return(adapter.dispatch('distinct_key', 'flywheel')(column)) }}
{%- endmacro %}

{% macro default__distinct_key(column) -%}
    {{ column }}
{%- endmacro %}

{% macro duckdb__distinct_key(column) -%}
    hash({{ column }})
{%- endmacro %}
