{#- On Spark the dbt sources (schemas raw and quality) are views over the
    Parquet lake written after ingestion and the quality gate:
    ${spark.flywheel.lake}/<table>/load_date=YYYY-MM-DD/*.parquet (partition
    discovery adds load_date). Re-created at the start of every run so new
    partitions are seen. On DuckDB the sources are the ingested tables: no-op.
    Called from on-run-start in dbt_project.yml; returns no SQL. -#}

{% macro register_lake_sources() -%}
    {%- if execute and target.type == 'spark' -%}
        {{ check_pii_confs() }}
        {%- set schemas = [] -%}
        {%- for node in graph.sources.values() if node.package_name == project_name -%}
            {%- if node.schema not in schemas -%}
                {%- do schemas.append(node.schema) -%}
                {%- do run_query('create schema if not exists ' ~ node.schema) -%}
            {%- endif -%}
            {%- do run_query(
                'create or replace view ' ~ node.schema ~ '.' ~ node.identifier
                ~ ' as select * from parquet.`${spark.flywheel.lake}/' ~ node.identifier ~ '`') -%}
        {%- endfor -%}
        {{ log('registered ' ~ graph.sources | length ~ ' lake source(s) on Spark', info=true) }}
    {%- endif -%}
{%- endmacro %}
