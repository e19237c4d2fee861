{#- dbt.listagg on Spark with its order: dbt-spark drops order_by_clause
    (collect_list order is arbitrary). Sort (key, value) structs instead.
    Supports "order by <expression> [asc|desc]" with one expression. -#}

{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if order_by_clause -%}
        {%- set clause = order_by_clause | trim -%}
        {%- set key = modules.re.sub('(?i)^order\\s+by\\s+', '', clause) -%}
        {%- set descending = modules.re.search('(?i)\\s+desc$', key) is not none -%}
        {%- set key = modules.re.sub('(?i)\\s+(asc|desc)$', '', key) -%}
        {%- set sorted -%}
            transform(array_sort(collect_list(struct({{ key }} as k, {{ measure }} as v))), x -> x.v)
        {%- endset -%}
        {%- if descending -%}{%- set sorted = 'reverse(' ~ sorted ~ ')' -%}{%- endif -%}
    {%- else -%}
        {%- set sorted = 'collect_list(' ~ measure ~ ')' -%}
    {%- endif -%}
    {%- if limit_num -%}{%- set sorted = 'slice(' ~ sorted ~ ', 1, ' ~ limit_num ~ ')' -%}{%- endif -%}
    array_join({{ sorted }}, {{ delimiter_text }})
{%- endmacro %}
