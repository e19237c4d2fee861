with source as (
    select * from {{ source('quality', 'lead_verdicts') }}
),

renamed as (
    select
        trim(lead_id) as lead_id,
        expectation,
        is_duplicate,
        nullif(trim(duplicate_of), '') as duplicate_of,
        details,
        checked_at
    from source
)

select * from renamed
