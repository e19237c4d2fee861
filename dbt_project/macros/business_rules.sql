{#- The rules that are choices: each reads its var, so it is defined once. -#}

{#- An order counts towards revenue when its status is one of var('revenue_statuses'). -#}
{% macro is_revenue_status(status_column) -%}
    ({{ status_column }} in (
        {%- for s in var('revenue_statuses') -%}
            '{{ s | lower }}'{{ ', ' if not loop.last }}
        {%- endfor -%}
    ))
{%- endmacro %}

{% macro nps_class(score_column) -%}
    case
        when {{ score_column }} >= {{ var('nps_promoter_min_score') }} then 'promoter'
        when {{ score_column }} <= {{ var('nps_detractor_max_score') }} then 'detractor'
        else 'passive'
    end
{%- endmacro %}

{% macro is_low_score(score_column) -%}
    ({{ score_column }} < {{ var('low_score_threshold') }})
{%- endmacro %}

{% macro is_csat_score(score_column) -%}
    ({{ score_column }} >= {{ var('csat_min_score') }})
{%- endmacro %}

{% macro in_list(column, values) -%}
    ({{ column }} in (
        {%- for v in values -%}
            '{{ v }}'{{ ', ' if not loop.last }}
        {%- endfor -%}
    ))
{%- endmacro %}

{#- x / y, null when y is 0 or null (portable; no division-by-zero errors). -#}
{% macro safe_divide(numerator, denominator) -%}
    (cast({{ numerator }} as double) / nullif(cast({{ denominator }} as double), 0))
{%- endmacro %}
