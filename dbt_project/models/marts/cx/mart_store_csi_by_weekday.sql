{#- CSI per store, month and ISO day of week of the visit (the answer's day). -#}
{{ config(alias='store_csi_by_weekday') }}

with answers as (
    select * from {{ ref('fct_survey_answers') }}
    where survey = 'csi'
        and store_id is not null
),

final as (
    select
        store_id,
        {{ period_start('month', 'answered_on') }} as month,
        answered_iso_dow as iso_day_of_week,
        cast(count(*) as bigint) as csi_respondents,
        cast(sum(score) as double) as csi_score_sum,
        {{ safe_divide('sum(score)', 'count(*)') }} as csi
    from answers
    group by
        store_id,
        {{ period_start('month', 'answered_on') }},
        answered_iso_dow
)

select * from final
