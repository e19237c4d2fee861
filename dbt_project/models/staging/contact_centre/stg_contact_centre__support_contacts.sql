with source as (
    select * from {{ source('contact_centre', 'support_contacts') }}
),

{#- Ids pass as ingest stored them (trimmed, blank = NULL). A trim() here would hide
    their length statistics from DuckDB, which then joins and groups them as whole
    strings instead of packed integers: out of memory at 50M orders under 512MB
    (docs/benchmarks.md). -#}
renamed as (
    select
        contact_id,
        contacted_at,
        lower(trim(channel)) as contact_channel,
        nullif({{ scrub_contact_data('trim(reason)') }}, '') as reason,
        order_id,
        customer_id,
        _ingested_at
    from source
)

select * from renamed
