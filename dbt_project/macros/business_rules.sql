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

{#- The survey components, summed over rows with columns survey, score and
    nps_class: int_metric_survey_aggregated (metric_values) and
    int_cx_store_days_aggregated (cx_store_live) both use them, so the live cut
    equals metric_values for a complete period. as_bigint casts each sum.
    weight names a column holding how many answers a row stands for (rows
    counted in advance, one per distinct value set); none = one answer a row. -#}
{% macro survey_component_sums(as_bigint=false, weight=none) -%}
    {%- set components = [
        ('nps_answers', "survey = 'nps'", '1'),
        ('promoters', "survey = 'nps' and nps_class = 'promoter'", '1'),
        ('passives', "survey = 'nps' and nps_class = 'passive'", '1'),
        ('detractors', "survey = 'nps' and nps_class = 'detractor'", '1'),
        ('csi_answers', "survey = 'csi'", '1'),
        ('csi_score_sum', "survey = 'csi'", 'score'),
        ('csat_answers', "survey = 'csi' and " ~ is_csat_score('score'), '1'),
        ('scored_answers', "survey in ('csi', 'cx')", '1'),
        ('low_score_answers', "survey in ('csi', 'cx') and " ~ is_low_score('score'), '1'),
    ] -%}
    {%- for name, condition, value in components %}
        {%- if weight %}{%- set value = weight if value == '1' else value ~ ' * ' ~ weight %}{%- endif %}
        {%- set total = 'sum(case when ' ~ condition ~ ' then ' ~ value ~ ' else 0 end)' %}
        {{ 'cast(' ~ total ~ ' as bigint)' if as_bigint else total }} as {{ name }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- The survey answers of `answers` (a CTE with store_id and order_id) that have a
    store, each with answer_store_id: its own store, else its order's (from `orders`).
    Only the answers without a store are joined to the orders, and an answer with
    neither is left out: joining every answer to the orders would hold every answer in
    one of the largest joins of the project for the rows that need none (measured:
    docs/benchmarks.md, "50M under memory_limit 512MB"). -#}
{% macro answers_with_store(answers, orders) -%}
    select {{ answers }}.*, {{ answers }}.store_id as answer_store_id
    from {{ answers }}
    where {{ answers }}.store_id is not null
    union all
    select {{ answers }}.*, {{ orders }}.store_id as answer_store_id
    from {{ answers }}
    inner join {{ orders }}
        on {{ answers }}.order_id = {{ orders }}.order_id
    where {{ answers }}.store_id is null
        and {{ orders }}.store_id is not null
{%- endmacro %}
