{#- Incremental models on Spark. The project's incremental models use
    delete+insert (a re-loaded order moves its lines in and out of revenue);
    Parquet tables on Spark cannot delete rows, and merge needs Delta / Iceberg
    jars the local session does not ship. So on Spark an incremental model is
    rebuilt whole, with the table materialization (correct, just not
    incremental), and is_incremental() is false. On DuckDB nothing changes. -#}

{% materialization incremental, adapter='spark', supported_languages=['sql'] %}
    {{ return(materialization_table_spark()) }}
{% endmaterialization %}

{% macro is_incremental() -%}
    {{ return(adapter.dispatch('is_incremental', 'flywheel')()) }}
{%- endmacro %}

{% macro default__is_incremental() -%}
    {#- dbt-core's is_incremental(), unchanged. -#}
    {%- if not execute -%}
        {{ return(False) }}
    {%- else -%}
        {%- set relation = adapter.get_relation(this.database, this.schema, this.table) -%}
        {{ return(relation is not none
                  and relation.type == 'table'
                  and model.config.materialized == 'incremental'
                  and not should_full_refresh()) }}
    {%- endif -%}
{%- endmacro %}

{% macro spark__is_incremental() -%}
    {{ return(False) }}
{%- endmacro %}
