-- Leads the quality gate quarantined (non-duplicate verdict) never reach fct_leads.
select fct_leads.lead_id
from {{ ref('fct_leads') }} as fct_leads
inner join {{ ref('stg_quality__lead_verdicts') }} as verdicts
    on fct_leads.lead_id = verdicts.lead_id
where not verdicts.is_duplicate

{#- Reads several models: Dagster shows it as a check of this one. -#}
{{ config(meta={'dagster': {'ref': {'name': 'fct_leads'}}}) }}
