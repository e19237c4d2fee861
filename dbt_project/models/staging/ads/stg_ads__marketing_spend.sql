with source as (
    select * from {{ source('ads', 'marketing_spend') }}
),

renamed as (
    select
        spend_date,
        lower(trim(channel)) as channel,
        -- blank campaign = channel-level spend; a value keeps keys non-null
        coalesce(nullif({{ scrub_contact_data('trim(campaign)') }}, ''), '(none)') as campaign,
        spend,
        coalesce(impressions, 0) as impressions,
        coalesce(clicks, 0) as clicks,
        _ingested_at
    from source
)

select * from renamed
