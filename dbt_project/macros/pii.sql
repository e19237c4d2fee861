{#- Normalisation of contact data before it is hashed or matched, so that
    ' Anna@Mail.RU ' and 'anna@mail.ru' are the same person. -#}

{% macro normalise_email(column) -%}
    nullif(lower(trim({{ column }})), '')
{%- endmacro %}

{#- Digits only; Russian-style 8XXXXXXXXXX becomes 7XXXXXXXXXX and a 10-digit
    national number gets the country prefix 7. -#}
{% macro normalise_phone(column) -%}
    {%- set digits = flywheel.strip_non_matching(column, '0-9') -%}
    nullif(
        case
            when length({{ digits }}) = 11 and substr({{ digits }}, 1, 1) = '8'
                then concat('7', substr({{ digits }}, 2))
            when length({{ digits }}) = 10 then concat('7', {{ digits }})
            else {{ digits }}
        end,
        ''
    )
{%- endmacro %}

{% macro normalise_loyalty_card(column) -%}
    nullif(upper({{ flywheel.strip_non_matching(column, 'A-Za-z0-9') }}), '')
{%- endmacro %}

{#- Remove every character not in the given regex class. -#}
{% macro strip_non_matching(column, char_class) -%}
    {{ return(adapter.dispatch('strip_non_matching', 'flywheel')(column, char_class)) }}
{%- endmacro %}

{% macro default__strip_non_matching(column, char_class) -%}
    regexp_replace({{ column }}, '[^{{ char_class }}]', '')
{%- endmacro %}

{% macro duckdb__strip_non_matching(column, char_class) -%}
    regexp_replace({{ column }}, '[^{{ char_class }}]', '', 'g')
{%- endmacro %}

{#- Keyed hash (HMAC-SHA256, hex) of an already normalised value. The function
    is a temporary macro defined by the dbt-duckdb plugin orchestration.lib.pii
    on each connection, so the key never appears in SQL, vars or artifacts.
    Only call it from table models. -#}
{% macro pii_hash(expression) -%}
    {{ return(adapter.dispatch('pii_hash', 'flywheel')(expression)) }}
{%- endmacro %}

{% macro default__pii_hash(expression) -%}
    pii_hash({{ expression }})
{%- endmacro %}
