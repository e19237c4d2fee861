{#- One row per admitted lead (quarantined leads never get here). Contact data
    only as keyed hashes. Duplicates are kept and flagged; lead metrics skip them. -#}

with leads as {{ inlined() }} (
    select * from {{ ref('int_leads_flagged') }}
),

final as (
    select
        lead_id,
        created_at,
        created_on,
        channel,
        campaign,
        {{ pii_hash('email') }} as email_hash,
        {{ pii_hash('phone') }} as phone_hash,
        (email is not null or phone is not null) as is_contactable,
        qualified_at,
        is_qualified,
        disqualified_reason,
        customer_id,
        is_converted,
        is_duplicate,
        duplicate_of
    from leads
)

select * from final
