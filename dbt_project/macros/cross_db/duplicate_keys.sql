{#-
  The keys of `model` that occur more than once, with their row count: what the
  uniqueness tests return (a test fails on any row). `where` filters the rows first.

  DuckDB: the rows are first grouped by a 64-bit hash of the key, and only the keys
  whose hash occurs more than once are grouped by their value. Grouping string
  keys without length statistics (the trimmed ids of the staging views, once) keeps
  whole strings in the hash table, which did not fit under a low memory limit;
  8-byte hashes do, at about the cost of one group by (measured: docs/benchmarks.md,
  "50M under memory_limit 512MB"). The views no longer trim ids; the hashes keep
  the tests small whatever the key.
  Equal keys have equal hashes, so no duplicate is missed, and a hash collision
  between distinct keys is dropped by the second grouping, so none is invented.
  Two limits, neither met in this project: a column with a collation (COLLATE
  NOCASE: 'a' and 'A' group together but hash apart) would hide duplicates, and
  `unique` on DuckDB takes a column name, not an expression.
  Elsewhere: one group by.
-#}
{% macro duplicate_keys(model, columns, where=none) %}
    {{ return(adapter.dispatch('duplicate_keys', 'flywheel')(model, columns, where)) }}
{% endmacro %}

{% macro default__duplicate_keys(model, columns, where) %}
{%- set key = columns | join(', ') %}
select {{ key }}, count(*) as n_records
from {{ model }}
{% if where %}where {{ where }}{% endif %}
group by {{ key }}
having count(*) > 1
{% endmacro %}

{% macro duckdb__duplicate_keys(model, columns, where) %}
{%- set key = columns | join(', ') %}
select {{ key }}, count(*) as n_records
from {{ model }}
where hash({{ key }}) in (
    select hash({{ key }})
    from {{ model }}
    {% if where %}where {{ where }}{% endif %}
    group by 1
    having count(*) > 1
)
{% if where %}and {{ where }}{% endif %}
group by {{ key }}
having count(*) > 1
{% endmacro %}

{#- dbt's built-in `unique` test on DuckDB (found first: dbt_project.yml puts this
    project ahead of dbt in dispatch); same result columns as dbt's own. -#}
{% macro duckdb__test_unique(model, column_name) %}
select {{ column_name }} as unique_field, n_records
from ({{ duplicate_keys(model, [column_name], column_name ~ ' is not null') }}) as duplicates
{% endmacro %}
