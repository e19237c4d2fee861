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

{#- Free text with contact data replaced by markers ('asked not to call: +7 912 ...'
    -> 'asked not to call: [phone redacted]'). The patterns are
    var('contact_data_patterns'), the same the publish audit searches for
    (orchestration/lib/contact_data.py). Each pattern is applied twice: a match
    takes the character after it, which may begin the next phone of a list. -#}
{% macro scrub_contact_data(column) -%}
    {%- set patterns = var('contact_data_patterns') -%}
    {%- set markers = {'email': '[email redacted]', 'phone': '[phone redacted]', 'card': '[card redacted]'} -%}
    {%- set ns = namespace(sql=column) -%}
    {%- for _ in range(2) -%}
        {%- for kind in ['email', 'phone', 'card'] -%}
            {%- if kind == 'email' -%}
                {%- set bounded = '()' ~ patterns[kind] ~ '()' -%}
            {%- else -%}
                {%- set bounded = '(^|[^0-9A-Za-z+])(?:' ~ patterns[kind] ~ ')([^0-9A-Za-z]|$)' -%}
            {%- endif -%}
            {%- set ns.sql = adapter.dispatch('replace_with_marker', 'flywheel')(ns.sql, bounded, markers[kind]) -%}
        {%- endfor -%}
    {%- endfor -%}
    {#- Text without a digit or an @ holds none of them: skip the six replacements
        (most campaign names, categories and regions). -#}
    case when {{ adapter.dispatch('matches_pattern', 'flywheel')(column, '[0-9@]') }}
        then {{ ns.sql }} else {{ column }} end
{%- endmacro %}

{#- Replace every match of a pattern with two groups (before, after) by
    before || marker || after. -#}
{% macro default__replace_with_marker(expression, pattern, marker) -%}
    {{ return("regexp_replace(" ~ expression ~ ", '" ~ pattern ~ "', '$1" ~ marker ~ "$2')") }}
{%- endmacro %}

{% macro duckdb__replace_with_marker(expression, pattern, marker) -%}
    {{ return("regexp_replace(" ~ expression ~ ", '" ~ pattern ~ "', '\\1" ~ marker ~ "\\2', 'g')") }}
{%- endmacro %}

{% macro default__matches_pattern(expression, pattern) -%}
    {{ return(expression ~ " rlike '" ~ pattern ~ "'") }}
{%- endmacro %}

{% macro duckdb__matches_pattern(expression, pattern) -%}
    {{ return("regexp_matches(" ~ expression ~ ", '" ~ pattern ~ "')") }}
{%- endmacro %}
