with source as (
    select * from {{ source('quality', 'lead_verdicts') }}
),

{#- Ids pass as ingest stored them (trimmed, blank = NULL). A trim() here would hide
    their length statistics from DuckDB, which then joins and groups them as whole
    strings instead of packed integers: out of memory at 50M orders under 512MB
    (docs/benchmarks.md). -#}
renamed as (
    select
        lead_id,
        expectation,
        is_duplicate,
        duplicate_of,
        details,
        checked_at
    from source
)

select * from renamed
