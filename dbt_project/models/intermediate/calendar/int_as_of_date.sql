{#- The date up to which data is loaded: var as_of_date when set, else the day
    of the latest event in any feed. A period is complete when it ends on or
    before this date (the as-of day itself may still be loading). -#}

with events as (
    select max(cast(ordered_at as date)) as event_date from {{ ref('stg_shop__orders') }}
    union all
    select max(cast(registered_at as date)) from {{ ref('stg_shop__customers') }}
    union all
    select max(cast(created_at as date)) from {{ ref('stg_crm__leads') }}
    union all
    select max(spend_date) from {{ ref('stg_ads__marketing_spend') }}
    union all
    select max(cast(answered_at as date)) from {{ ref('stg_survey__survey_answers') }}
    union all
    select max(cast(contacted_at as date)) from {{ ref('stg_contact_centre__support_contacts') }}
),

final as (
    {%- if var('as_of_date', '') %}
    -- one row, whatever the feeds hold
    select cast('{{ var("as_of_date") }}' as date) as as_of_date
    {%- else %}
    select coalesce(max(event_date), current_date) as as_of_date
    from events
    {%- endif %}
)

select * from final
