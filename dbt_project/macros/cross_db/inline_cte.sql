{#- `name as {{ inlined() }} (select * from {{ ref(...) }})`, for the import
    CTEs of relations that grow with the data. DuckDB 2.0 materializes every
    CTE that a statement reads more than once, even a plain `select * from` a
    table: a model that reads its orders for the rows and again for the load
    watermark held all 50M orders with every column. NOT MATERIALIZED makes
    each reference a scan of its own, with its own filters and columns.
    int_metric_orders_aggregated at 50M orders, same rows and hash: 62 s and
    10.9 GB peak before, 16 s and 2.8 GB after (docs/benchmarks.md). Spark
    has no such keyword and inlines CTEs anyway. -#}
{% macro inlined() -%}
    {{ return(adapter.dispatch('inlined', 'flywheel')()) }}
{%- endmacro %}

{% macro default__inlined() -%}
    not materialized
{%- endmacro %}

{% macro spark__inlined() -%}
{%- endmacro %}
