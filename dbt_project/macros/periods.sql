{#- Period helpers. Weeks are ISO weeks starting on Monday (date_trunc('week')
    does that on DuckDB and Spark alike). -#}

{% macro period_start(grain, column) -%}
    cast({{ dbt.date_trunc(grain, column) }} as date)
{%- endmacro %}

{#- Exclusive end of the period that starts at `start_column`. -#}
{% macro period_end(grain, start_column) -%}
    cast({{ dbt.dateadd(grain, 1, start_column) }} as date)
{%- endmacro %}

{#- The period whose change is reported: the one just before. -#}
{% macro previous_period_start(grain, start_column) -%}
    cast({{ dbt.dateadd(grain, -1, start_column) }} as date)
{%- endmacro %}

{#- The same period a year earlier: 12 months back for months, 52 weeks back for
    ISO weeks (so a Monday maps to a Monday), one calendar year back for days. -#}
{% macro year_earlier_start(grain, start_column) -%}
    {%- if grain == 'week' -%}
        cast({{ dbt.dateadd('day', -364, start_column) }} as date)
    {%- elif grain == 'month' -%}
        cast({{ dbt.dateadd('month', -12, start_column) }} as date)
    {%- else -%}
        cast({{ dbt.dateadd('year', -1, start_column) }} as date)
    {%- endif -%}
{%- endmacro %}

{% macro metric_grains() -%}
    {{ return(var('metric_grains', ['day', 'week', 'month'])) }}
{%- endmacro %}

{#- The same shifts when the grain is a column value rather than a literal. -#}
{% macro shift_period_by_grain(grain_column, start_column, shift) -%}
    case {{ grain_column }}
        {%- for g in ['day', 'week', 'month'] %}
        when '{{ g }}' then
            {%- if shift == 'end' %} {{ period_end(g, start_column) }}
            {%- elif shift == 'previous' %} {{ previous_period_start(g, start_column) }}
            {%- else %} {{ year_earlier_start(g, start_column) }}
            {%- endif %}
        {%- endfor %}
    end
{%- endmacro %}

{#- ISO day of week, 1 = Monday .. 7 = Sunday, from a date (portable: days since
    a known Monday, 2000-01-03, modulo 7). -#}
{% macro iso_day_of_week(date_column) -%}
    (mod(mod({{ dbt.datediff("cast('2000-01-03' as date)", date_column, 'day') }}, 7) + 7, 7) + 1)
{%- endmacro %}
