{#- `name as {{ inlined() }} (select * from {{ ref(...) }})`, for the import
    CTEs of relations that grow with the data. DuckDB 2.0 materializes every
    CTE that a statement reads more than once, even a plain `select * from` a
    table: a model that reads its orders for the rows and again for the load
    watermark held all the orders with every column. NOT MATERIALIZED makes
    each reference a scan of its own, with its own filters and columns, so a
    model holds only the rows and columns it reads (measured, same rows and hash:
    docs/benchmarks.md, "DuckDB materializes a CTE read twice"). Spark
    has no such keyword and inlines CTEs anyway. -#}
{% macro inlined() -%}
    {{ return(adapter.dispatch('inlined', 'flywheel')()) }}
{%- endmacro %}

{% macro default__inlined() -%}
    not materialized
{%- endmacro %}

{% macro spark__inlined() -%}
{%- endmacro %}
