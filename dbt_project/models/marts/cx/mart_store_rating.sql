{#- Stores ranked by NPS and CSI per month, with respondent counts and a
    turnover segment (high / mid / low: thirds of the month's stores by
    revenue) so NPS can be compared across segments. Ranks only among stores
    with at least var('cx_min_respondents') answers, with the change against
    the previous month. Values come from
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
        *,
        (coalesce(nps_respondents, 0) >= {{ var('cx_min_respondents') }}) as nps_is_rankable,
        (coalesce(csi_respondents, 0) >= {{ var('cx_min_respondents') }}) as csi_is_rankable,
        ntile(3) over (partition by month order by coalesce(revenue, 0) desc) as revenue_tercile
    from pivoted
),

{# A store is ranked only among the stores with enough respondents that month
    (var cx_min_respondents): a 2-answer NPS of 100 must not top the list. -#}
with_ranks as (
    select
        *,
        case when nps_is_rankable and nps is not null then rank() over (
            partition by month, nps_is_rankable and nps is not null order by nps desc
        ) end as nps_rank,
        case when csi_is_rankable and csi is not null then rank() over (
            partition by month, csi_is_rankable and csi is not null order by csi desc
        ) end as csi_rank
    from ranked
),

{# Rank change against the previous calendar month (positive = moved up);
    null when the store was not ranked in either month. -#}
compared as (
    select
        with_ranks.*,
        previous.nps_rank as previous_nps_rank,
        previous.csi_rank as previous_csi_rank
    from with_ranks
    left join with_ranks as previous
        on with_ranks.store_id = previous.store_id
        and previous.month = {{ previous_period_start('month', 'with_ranks.month') }}
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
        cast(ranked.previous_nps_rank - ranked.nps_rank as integer) as nps_rank_change,
        cast(ranked.previous_csi_rank - ranked.csi_rank as integer) as csi_rank_change,
        (not ranked.nps_is_rankable) as nps_is_small_sample,
        (not ranked.csi_is_rankable) as csi_is_small_sample,
        coalesce(ranked.revenue, 0) as revenue,
        case ranked.revenue_tercile when 1 then 'high' when 2 then 'mid' else 'low' end as revenue_segment
    from compared as ranked
    left join stores
        on ranked.store_id = stores.store_id
)

select * from final
