{#- Type names. The model contracts (marts *.yml) declare DuckDB spellings;
    dbt.cast() renders them for the engine: varchar -> string, timestamp (naive,
    DuckDB's TIMESTAMP) -> timestamp_ntz, timestamp with time zone -> timestamp
    (Spark's TIMESTAMP is an instant). Everything else is spelled alike. -#}

{% macro spark_type_name(type) -%}
    {%- set t = type | trim | lower -%}
    {%- set mapping = {
        'varchar': 'string', 'text': 'string',
        'timestamp': 'timestamp_ntz', 'timestamp without time zone': 'timestamp_ntz',
        'timestamp with time zone': 'timestamp', 'timestamptz': 'timestamp',
        'hugeint': 'decimal(38, 0)',
    } -%}
    {{- mapping.get(t, type) -}}
{%- endmacro %}

{% macro spark__cast(field, type) -%}
    cast({{ field }} as {{ spark_type_name(type) }})
{%- endmacro %}

{#- Constraints from contracts: Parquet tables on Spark cannot hold NOT NULL or
    CHECK constraints (only Delta can). The contract's column names and types
    are still enforced before the table is built, and the not_null data tests
    run as on DuckDB. -#}
{% macro spark__alter_column_set_constraints(relation, column_dict) -%}
    {%- if config.get('file_format', 'parquet') in ('delta', 'iceberg') -%}
        {{ return(dbt_spark.spark__alter_column_set_constraints(relation, column_dict)) }}
    {%- endif -%}
{%- endmacro %}

{% macro spark__alter_table_add_constraints(relation, constraints) -%}
    {%- if config.get('file_format', 'parquet') in ('delta', 'iceberg') -%}
        {{ return(dbt_spark.spark__alter_table_add_constraints(relation, constraints)) }}
    {%- endif -%}
{%- endmacro %}
