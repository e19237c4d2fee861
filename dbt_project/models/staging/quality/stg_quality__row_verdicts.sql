with source as (
    select * from {{ source('quality', 'row_verdicts') }}
),

renamed as (
    select
        feed,
        record_key,
        expectation,
        details,
        checked_at
    from source
)

select * from renamed
