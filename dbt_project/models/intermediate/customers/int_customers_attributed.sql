{#- Lead -> customer attribution. A customer belongs to the channel and
    campaign of its lead: customers.lead_id when that lead was admitted, else
    the earliest (non-duplicate first) lead whose customer_id points to the
    customer; with no lead the customer is 'direct'. Revenue and gross margin
    of the customer's revenue orders within var attribution_window_days of the
    registration date feed ROAS and channel ROI. -#}

with customers as {{ inlined() }} (
    select * from {{ ref('int_customers_activated') }}
),

customer_leads as {{ inlined() }} (
    select * from {{ ref('stg_shop__customers') }}
),

leads as {{ inlined() }} (
    select * from {{ ref('int_leads_flagged') }}
),

channels as (
    select * from {{ ref('stg_seeds__channels') }}
),

orders as {{ inlined() }} (
    select * from {{ ref('int_orders_enriched') }}
),

named_leads as (
    select
        customer_leads.customer_id,
        leads.lead_id,
        leads.channel,
        leads.campaign
    from customer_leads
    inner join leads
        on customer_leads.lead_id = leads.lead_id
),

pointing_leads as (
    select
        customer_id,
        lead_id,
        channel,
        campaign,
        row_number() over (
            partition by customer_id
            order by case when is_duplicate then 1 else 0 end, created_at, lead_id
        ) as lead_rank
    from leads
    where customer_id is not null
),

attributed as (
    select
        customers.customer_id,
        customers.registered_at,
        customers.registered_on,
        customers.region,
        coalesce(named_leads.lead_id, pointing_leads.lead_id) as lead_id,
        case
            when named_leads.lead_id is not null then 'customer_lead_id'
            when pointing_leads.lead_id is not null then 'lead_customer_id'
            else 'direct'
        end as attribution_method,
        coalesce(named_leads.channel, pointing_leads.channel, 'direct') as channel,
        coalesce(named_leads.campaign, pointing_leads.campaign, '(none)') as campaign
    from customers
    left join named_leads
        on customers.customer_id = named_leads.customer_id
    left join pointing_leads
        on customers.customer_id = pointing_leads.customer_id
        and pointing_leads.lead_rank = 1
),

-- From the customers, not from `attributed`: the window needs only the
-- registration date, and a CTE read twice is materialized whole by DuckDB.
window_orders as (
    select
        customers.customer_id,
        sum(orders.revenue) as revenue_in_window,
        sum(orders.gross_margin) as gross_margin_in_window
    from customers
    inner join orders
        on customers.customer_id = orders.customer_id
    where orders.is_revenue_order
        and {{ dbt.datediff('customers.registered_on', 'orders.ordered_on', 'day') }}
            <= {{ var('attribution_window_days') }}
    group by customers.customer_id
),

final as (
    select
        attributed.customer_id,
        attributed.registered_at,
        attributed.registered_on,
        attributed.region,
        attributed.lead_id,
        attributed.attribution_method,
        attributed.channel,
        attributed.campaign,
        coalesce(channels.channel_group, 'direct') as channel_group,
        coalesce(channels.is_paid, false) as is_paid,
        (attributed.channel <> 'direct') as is_acquired,
        coalesce(window_orders.revenue_in_window, cast(0 as decimal(18, 4))) as revenue_in_window,
        coalesce(window_orders.gross_margin_in_window, cast(0 as decimal(18, 4)))
            as gross_margin_in_window,
        cast({{ dbt.dateadd('day', var('attribution_window_days'), 'attributed.registered_on') }} as date)
            as attribution_window_ends_on
    from attributed
    left join channels
        on attributed.channel = channels.channel
    left join window_orders
        on attributed.customer_id = window_orders.customer_id
)

select * from final
