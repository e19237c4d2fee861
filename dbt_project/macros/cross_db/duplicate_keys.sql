{#-
  The keys of `model` that occur more than once, with their row count: what the
  uniqueness tests return (a test fails on any row). `where` filters the rows first.

  DuckDB: the rows are first grouped by a 64-bit hash of the key, and only the keys
  whose hash occurs more than once are grouped by their value. Grouping 50M VARCHAR
  order ids ran out of memory under memory_limit 512MB (DuckDB's hash aggregate
  keeps about a key's width per group even when it spills); 8-byte hashes fit and
  are faster at every limit (docs/benchmarks.md). Equal keys have equal hashes, so
  no duplicate is missed, and a hash collision between distinct keys is dropped by
  the second grouping, so none is invented.
  Elsewhere: one group by.
-#}
{% macro duplicate_keys(model, columns, where=none) %}
    {{ return(adapter.dispatch('duplicate_keys', 'flywheel')(model, columns, where)) }}
{% endmacro %}

{% macro default__duplicate_keys(model, columns, where) %}
select {{ columns | join(', ') }}, count(*) as n_records
from {{ model }}
{% if where %}where {{ where }}{% endif %}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endmacro %}

{% macro duckdb__duplicate_keys(model, columns, where) %}
select {{ columns | join(', ') }}, count(*) as n_records
from {{ model }}
where hash({{ columns | join(', ') }}) in (
    select hash({{ columns | join(', ') }})
    from {{ model }}
    {% if where %}where {{ where }}{% endif %}
    group by 1
    having count(*) > 1
)
{% if where %}and {{ where }}{% endif %}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endmacro %}

{#- dbt's built-in `unique` test on DuckDB (found first: dbt_project.yml puts this
    project ahead of dbt in dispatch); same result columns as dbt's own. -#}
{% macro duckdb__test_unique(model, column_name) %}
select {{ column_name }} as unique_field, n_records
from ({{ duplicate_keys(model, [column_name], column_name ~ ' is not null') }}) as duplicates
{% endmacro %}
