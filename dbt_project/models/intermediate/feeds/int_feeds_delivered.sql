{#- One row per landing feed: was anything of it delivered? A shop may have no ad
    spend export, no contact centre or no survey tool; a feed with no row is "not
    delivered", and the metrics that need it are left out (int_metrics_available).
    One row is enough to know: each staging view is read up to its first row. -#}

with customers as (
    select * from {{ ref('stg_shop__customers') }}
),

leads as (
    select * from {{ ref('stg_crm__leads') }}
),

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

order_items as (
    select * from {{ ref('stg_shop__order_items') }}
),

marketing_spend as (
    select * from {{ ref('stg_ads__marketing_spend') }}
),

survey_answers as (
    select * from {{ ref('stg_survey__survey_answers') }}
),

support_contacts as (
    select * from {{ ref('stg_contact_centre__support_contacts') }}
),

{%- set feeds = ['customers', 'leads', 'orders', 'order_items', 'marketing_spend', 'survey_answers', 'support_contacts'] %}

sampled as (
    {%- for feed in feeds %}
    select
        '{{ feed }}' as feed,
        count(*) as sampled_rows
    from (select 1 as one from {{ feed }} limit 1) as first_row
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

final as (
    select
        feed,
        sampled_rows > 0 as is_delivered
    from sampled
)

select * from final
