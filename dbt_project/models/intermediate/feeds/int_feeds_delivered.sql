{#- One row per landing feed: was anything of it delivered? A shop may have no ad
    spend export, no contact centre or no survey tool; a feed with no row is "not
    delivered", and the metrics that need it are left out (int_metrics_available).
    One row is enough to know: each staging view is read up to its first row. -#}

{%- set staging = {
    'customers': 'stg_shop__customers',
    'leads': 'stg_crm__leads',
    'orders': 'stg_shop__orders',
    'order_items': 'stg_shop__order_items',
    'marketing_spend': 'stg_ads__marketing_spend',
    'survey_answers': 'stg_survey__survey_answers',
    'support_contacts': 'stg_contact_centre__support_contacts',
} %}

with
{%- for feed, model in staging.items() %}
{{ feed }} as (
    select * from {{ ref(model) }}
),
{% endfor %}
sampled as (
    {%- for feed in staging %}
    select
        '{{ feed }}' as feed,
        count(*) as sampled_rows
    from (select 1 as one from {{ feed }} limit 1) as first_row  -- noqa: AM09
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
