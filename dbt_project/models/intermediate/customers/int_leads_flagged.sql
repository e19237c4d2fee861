{#- Admitted leads with the quality gate's duplicate flag and whether the lead
    became a customer (its customer_id is set, or a customer names it as lead_id).
    Duplicates stay for drill-down but are not counted in lead metrics. -#}

with leads as {{ inlined() }} (
    select * from {{ ref('stg_crm__leads') }}
),

verdicts as {{ inlined() }} (
    select * from {{ ref('stg_quality__lead_verdicts') }}
),

customers as {{ inlined() }} (
    select * from {{ ref('stg_shop__customers') }}
),

duplicates as (
    select
        lead_id,
        min(duplicate_of) as duplicate_of
    from verdicts
    where is_duplicate
    group by lead_id
),

claimed_by_customers as (
    select
        lead_id,
        min(customer_id) as customer_id
    from customers
    where lead_id is not null
    group by lead_id
),

final as (
    select
        leads.lead_id,
        leads.created_at,
        cast(leads.created_at as date) as created_on,
        leads.channel,
        leads.campaign,
        leads.email,
        leads.phone,
        leads.qualified_at,
        leads.disqualified_reason,
        coalesce(leads.customer_id, claimed_by_customers.customer_id) as customer_id,
        (duplicates.lead_id is not null) as is_duplicate,
        duplicates.duplicate_of,
        (leads.qualified_at is not null) as is_qualified,
        (leads.customer_id is not null or claimed_by_customers.lead_id is not null) as is_converted,
        leads._ingested_at
    from leads
    left join duplicates
        on leads.lead_id = duplicates.lead_id
    left join claimed_by_customers
        on leads.lead_id = claimed_by_customers.lead_id
)

select * from final
