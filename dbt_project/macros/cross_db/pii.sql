{#- pii_hash on Spark: the same HMAC-SHA256 as the DuckDB plugin
    (orchestration/lib/pii.py), sha256(opad || sha256(ipad || utf8(x))), hex.
    The key blocks are Spark session confs, substituted by Spark's parser
    (${...}; spark.sql.variable.substitute, on by default), so neither the key
    nor the blocks appear in dbt's compiled SQL, vars or artifacts. The local
    session gets them from profiles.yml (DBT_ENV_SECRET_* set by
    orchestration.lib.spark); a cluster from its own secret-backed Spark
    config (docs/scale-out.md). check_pii_confs() stops the run when they are
    missing instead of hashing everything to NULL. -#}

{% macro spark__pii_hash(expression) -%}
    case when {{ expression }} is null then null else sha2(concat(
        unhex('${spark.flywheel.pii.opad}'),
        unhex(sha2(concat(unhex('${spark.flywheel.pii.ipad}'), encode(cast({{ expression }} as string), 'UTF-8')), 256))
    ), 256) end
{%- endmacro %}

{% macro check_pii_confs() -%}
    {%- if execute and target.type == 'spark' -%}
        {%- set res = run_query(
            "select length(unhex('${spark.flywheel.pii.ipad}')) as ipad, "
            ~ "length(unhex('${spark.flywheel.pii.opad}')) as opad") -%}
        {%- if res.columns[0].values()[0] != 64 or res.columns[1].values()[0] != 64 -%}
            {{ exceptions.raise_compiler_error(
                "Spark confs spark.flywheel.pii.ipad / spark.flywheel.pii.opad are not set (64-byte hex "
                ~ "HMAC key blocks): run dbt through orchestration.lib.spark, or set them on the cluster "
                ~ "(python -m orchestration.lib.spark pii-conf). See docs/scale-out.md.") }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
