with source as (
    select * from {{ source('quality', 'lead_verdicts') }}
),

{# Ids pass untrimmed, as ingest stored them: dbt_project/README.md, "Staging keeps ids as stored". -#}
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
