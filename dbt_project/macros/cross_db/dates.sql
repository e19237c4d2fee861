{#- dbt.dateadd / dbt.datediff on Spark. dbt-spark's versions wrap every
    argument in assert_not_null (a NULL date fails the whole query, where
    DuckDB returns NULL) and round-trip through unix seconds. These keep
    DuckDB's semantics: NULL in, NULL out; a date stays a date and a
    timestamp a timestamp (date + interval); datediff counts the boundaries
    crossed, like DuckDB's date_diff. -#}

{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) -%}
    {%- set parts = {
        'year': 'make_interval(cast(' ~ interval ~ ' as int), 0, 0, 0, 0, 0, 0)',
        'quarter': 'make_interval(0, cast(3 * (' ~ interval ~ ') as int), 0, 0, 0, 0, 0)',
        'month': 'make_interval(0, cast(' ~ interval ~ ' as int), 0, 0, 0, 0, 0)',
        'week': 'make_interval(0, 0, cast(' ~ interval ~ ' as int), 0, 0, 0, 0)',
        'day': 'make_interval(0, 0, 0, cast(' ~ interval ~ ' as int), 0, 0, 0)',
        'hour': 'make_interval(0, 0, 0, 0, cast(' ~ interval ~ ' as int), 0, 0)',
        'minute': 'make_interval(0, 0, 0, 0, 0, cast(' ~ interval ~ ' as int), 0)',
        'second': 'make_interval(0, 0, 0, 0, 0, 0, ' ~ interval ~ ')',
    } -%}
    {%- if datepart not in parts -%}
        {{ exceptions.raise_compiler_error("dateadd: datepart '" ~ datepart ~ "' is not supported on Spark") }}
    {%- endif -%}
    ({{ from_date_or_timestamp }} + {{ parts[datepart] }})
{%- endmacro %}

{% macro spark__datediff(first_date, second_date, datepart) -%}
    {%- if datepart == 'day' -%}
        datediff(cast({{ second_date }} as date), cast({{ first_date }} as date))
    {%- elif datepart == 'week' -%}
        cast(datediff(
            cast(date_trunc('week', {{ second_date }}) as date),
            cast(date_trunc('week', {{ first_date }}) as date)
        ) / 7 as bigint)
    {%- elif datepart == 'month' -%}
        ((year({{ second_date }}) * 12 + month({{ second_date }}))
            - (year({{ first_date }}) * 12 + month({{ first_date }})))
    {%- elif datepart == 'quarter' -%}
        ((year({{ second_date }}) * 4 + quarter({{ second_date }}))
            - (year({{ first_date }}) * 4 + quarter({{ first_date }})))
    {%- elif datepart == 'year' -%}
        (year({{ second_date }}) - year({{ first_date }}))
    {%- else -%}
        {{ exceptions.raise_compiler_error("datediff: datepart '" ~ datepart ~ "' is not supported on Spark") }}
    {%- endif -%}
{%- endmacro %}
