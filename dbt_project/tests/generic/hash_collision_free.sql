{#- No two distinct values of the column share the 64-bit hash that
    distinct_key() counts on DuckDB: a row per shared hash (its smallest and
    largest value differ). Elsewhere distinct_key() is the value itself and the
    test finds nothing. -#}
{% test hash_collision_free(model, column_name) %}
select
    {{ distinct_key(column_name) }} as shared_key,
    min({{ column_name }}) as first_value,
    max({{ column_name }}) as last_value
from {{ model }}
group by {{ distinct_key(column_name) }}
having min({{ column_name }}) <> max({{ column_name }})
{% endtest %}
