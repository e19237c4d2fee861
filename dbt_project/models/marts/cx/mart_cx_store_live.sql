{#- Store directors' cut (cx_store_live): each store's NPS, CSI, CSAT and
    low-score share for today, this ISO week and this month so far, as of the
    newest answer, refreshed every 15 minutes by cx_store_job. Formulas come
    from the metric catalog (macro metric_catalog), so they equal metric_values'
    for the same period once it is complete. Every store of the seed has rows,
    with 0 respondents when nobody answered yet. -#}
{{ config(alias='cx_store_live', tags=['cx_store']) }}
{%- set metrics = ['nps', 'promoter_share', 'detractor_share', 'csi', 'csat', 'low_score_share'] %}
{%- set components = ['nps_answers', 'promoters', 'passives', 'detractors', 'csi_answers',
    'csi_score_sum', 'csat_answers', 'scored_answers', 'low_score_answers'] %}

with store_days as (
    select * from {{ ref('int_cx_store_days_aggregated') }}
),

stores as (
    select * from {{ ref('stg_seeds__stores') }}
),

as_of as (
    select
        max(answered_on) as as_of_date,
        max(aggregated_at) as refreshed_at
    from store_days
),

periods as (
    {%- for g in ['day', 'week', 'month'] %}
    select
        '{{ g }}' as grain,
        {{ period_start(g, 'as_of_date') }} as period_start,
        as_of_date,
        refreshed_at
    from as_of
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

summed as (
    select
        stores.store_id,
        periods.grain,
        periods.period_start,
        {%- for c in components %}
        coalesce(sum(store_days.{{ c }}), 0) as {{ c }},
        {%- endfor %}
        max(store_days.last_answered_at) as last_answered_at
    from stores
    cross join periods
    left join store_days
        on stores.store_id = store_days.store_id
        and store_days.answered_on >= periods.period_start
        and store_days.answered_on <= periods.as_of_date
    group by
        stores.store_id,
        periods.grain,
        periods.period_start
),

final as (
    select
        summed.store_id,
        stores.store_name,
        stores.region,
        summed.grain,
        summed.period_start,
        as_of.as_of_date,
        {%- for name in metrics %}
        {%- set m = metric_entry(name) %}
        {{ m.get('scale', 1) }} * {{ safe_divide(m.numerator, m.denominator) }} as {{ name }},
        {%- endfor %}
        cast(summed.nps_answers as bigint) as nps_respondents,
        cast(summed.csi_answers as bigint) as csi_respondents,
        cast(summed.scored_answers as bigint) as scored_answers,
        (summed.nps_answers < {{ var('cx_min_respondents') }}) as nps_is_small_sample,
        (summed.csi_answers < {{ var('cx_min_respondents') }}) as csi_is_small_sample,
        summed.last_answered_at,
        as_of.refreshed_at
    from summed
    inner join stores
        on summed.store_id = stores.store_id
    cross join as_of
)

select * from final
