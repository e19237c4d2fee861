{#- Monthly churn: customers paying in month m-1 (churn base of month m) and
    those of them with no revenue order in month m. Month m is reported once it
    has started (as-of date); it is complete when it is over. -#}

with customer_months as {{ inlined() }} (
    select * from {{ ref('int_customer_months_summarised') }}
),

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

paying as (
    select distinct
        customer_id,
        order_month
    from customer_months
),

followed as (
    select
        cast({{ dbt.dateadd('month', 1, 'paying.order_month') }} as date) as period_start,
        paying.customer_id,
        (next_month.customer_id is null) as is_churned
    from paying
    left join paying as next_month
        on paying.customer_id = next_month.customer_id
        and next_month.order_month = cast({{ dbt.dateadd('month', 1, 'paying.order_month') }} as date)
),

final as (
    select
        'month' as grain,
        followed.period_start,
        'all' as dimension,
        'all' as dimension_value,
        count(*) as churn_base,
        sum(case when followed.is_churned then 1 else 0 end) as churned_customers
    from followed
    cross join as_of
    where followed.period_start <= as_of.as_of_date
    group by followed.period_start
)

select * from final
