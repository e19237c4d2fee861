{#- Stores ranked by NPS and CSI per month, with respondent counts and a
    turnover segment (high / mid / low: thirds of the month's stores by
    revenue) so NPS can be compared across segments. Values come from
    metric_values (dimension store, grain month). -#}
{{ config(alias='store_rating') }}

with metric_values as (
    select * from {{ ref('mart_metric_values') }}
    where grain = 'month'
        and dimension = 'store'
        and dimension_value <> '(none)'
        and metric in ('nps', 'csi', 'revenue')
),

stores as (
    select * from {{ ref('stg_seeds__stores') }}
),

pivoted as (
    select
        dimension_value as store_id,
        period_start as month,
        max(case when metric = 'nps' then value end) as nps,
        max(case when metric = 'nps' then numerator end) as nps_numerator,
        max(case when metric = 'nps' then sample_size end) as nps_respondents,
        max(case when metric = 'csi' then value end) as csi,
        max(case when metric = 'csi' then sample_size end) as csi_respondents,
        max(case when metric = 'revenue' then value end) as revenue
    from metric_values
    group by
        dimension_value,
        period_start
),

ranked as (
    select
        pivoted.*,
        case when nps is not null then rank() over (
            partition by month order by case when nps is null then 1 else 0 end, nps desc
        ) end as nps_rank,
        case when csi is not null then rank() over (
            partition by month order by case when csi is null then 1 else 0 end, csi desc
        ) end as csi_rank,
        ntile(3) over (partition by month order by coalesce(revenue, 0) desc) as revenue_tercile
    from pivoted
),

final as (
    select
        ranked.store_id,
        stores.store_name,
        stores.region,
        ranked.month,
        ranked.nps,
        ranked.nps_numerator,
        cast(coalesce(ranked.nps_respondents, 0) as bigint) as nps_respondents,
        ranked.csi,
        cast(coalesce(ranked.csi_respondents, 0) as bigint) as csi_respondents,
        cast(coalesce(ranked.nps_respondents, 0) + coalesce(ranked.csi_respondents, 0) as bigint) as respondents,
        cast(ranked.nps_rank as integer) as nps_rank,
        cast(ranked.csi_rank as integer) as csi_rank,
        coalesce(ranked.revenue, 0) as revenue,
        case ranked.revenue_tercile when 1 then 'high' when 2 then 'mid' else 'low' end as revenue_segment
    from ranked
    left join stores
        on ranked.store_id = stores.store_id
)

select * from final
