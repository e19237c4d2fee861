{#- Leads the quality gate quarantined (a verdict that is not a duplicate) never
    enter the models; duplicates stay and are flagged in int_leads_flagged. -#}
with source as (
    select * from {{ source('crm', 'leads') }}
),

verdicts as {{ inlined() }} (
    select * from {{ ref('stg_quality__lead_verdicts') }}
),

{# Ids pass untrimmed, as ingest stored them: dbt_project/README.md, "Staging keeps ids as stored". -#}
renamed as (
    select
        lead_id,
        created_at,
        lower(trim(channel)) as channel,
        coalesce(nullif({{ scrub_contact_data('trim(campaign)') }}, ''), '(none)') as campaign,
        {{ normalise_email('email') }} as email,
        {{ normalise_phone('phone') }} as phone,
        qualified_at,
        nullif(lower({{ scrub_contact_data('trim(disqualified_reason)') }}), '') as disqualified_reason,
        customer_id,
        _ingested_at
    from source
),

admitted as (
    select renamed.*
    from renamed
    where not exists (
        select 1
        from verdicts
        where verdicts.lead_id = renamed.lead_id
            and not verdicts.is_duplicate
    )
)

select * from admitted
