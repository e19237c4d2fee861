{#- The value a distinct count counts. On DuckDB a 64-bit hash of the id:
    DuckDB keeps at most 12 characters of a string inline, so with longer ids
    every distinct key carries a string on a heap, which a count over the item
    lines could not hold under a low memory limit; the hash is 8 bytes per key
    (measured: docs/benchmarks.md, "DuckDB materializes a CTE read twice"). Exact only while no two ids share
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
