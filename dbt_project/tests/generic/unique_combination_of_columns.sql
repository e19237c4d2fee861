{#- The key made of several columns is unique (no dbt_utils: the project builds offline).
    Rows with NULL in a key column count as keys too. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

{{ duplicate_keys(model, combination_of_columns) }}

{% endtest %}
