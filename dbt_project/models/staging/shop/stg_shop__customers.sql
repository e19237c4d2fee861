with source as (
    select * from {{ source('shop', 'customers') }}
),

{#- Ids pass as ingest stored them (trimmed, blank = NULL). A trim() here would hide
    their length statistics from DuckDB, which then joins and groups them as whole
    strings instead of packed integers: out of memory at 50M orders under 512MB
    (docs/benchmarks.md). -#}
renamed as (
    select
        customer_id,
        registered_at,
        lead_id,
        {{ normalise_email('email') }} as email,
        {{ normalise_phone('phone') }} as phone,
        {{ normalise_loyalty_card('loyalty_card_id') }} as loyalty_card_id,
        nullif({{ scrub_contact_data('trim(region)') }}, '') as region,
        _ingested_at
    from source
)

select * from renamed
