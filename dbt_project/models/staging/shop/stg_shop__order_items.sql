with source as (
    select * from {{ source('shop', 'order_items') }}
),

{#- Ids pass as ingest stored them (trimmed, blank = NULL). A trim() here would hide
    their length statistics from DuckDB, which then joins and groups them as whole
    strings instead of packed integers: out of memory at 50M orders under 512MB
    (docs/benchmarks.md). -#}
renamed as (
    select
        order_id,
        line_no,
        trim(sku) as sku,
        nullif({{ scrub_contact_data('trim(category)') }}, '') as category,
        quantity,
        unit_price,
        unit_cost,
        _ingested_at
    from source
)

select * from renamed
