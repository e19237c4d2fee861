{#- The low-score callback list (restricted.callback_list): one row per csi or
    cx answer scoring below low_score_threshold answered in the callback window
    (var callback_window_days days ending at the callback day: var
    callback_as_of_date, else the newest answer's day but at most yesterday, so
    a morning run lists the whole previous day). It carries clear contact data
    (the answer's own, else the resolved customer's) and therefore lives in
    schema restricted: never in marts, never published; publish_restricted
    copies it to the owner-only restricted file and the callback export writes
    the contact centre's CSV. One row per answer_id (raw keeps the latest
    version of a re-landed answer). -#}
{{ config(
    schema='restricted',
    alias='callback_list',
    materialized='table',
    tags=['cx_callbacks'],
) }}

with answers as {{ inlined() }} (
    select * from {{ ref('stg_survey__survey_answers') }}
),

respondents as {{ inlined() }} (
    select * from {{ ref('int_survey_respondents_resolved') }}
),

customers as {{ inlined() }} (
    select * from {{ ref('stg_shop__customers') }}
),

orders as {{ inlined() }} (
    select * from {{ ref('stg_shop__orders') }}
),

stores as (
    select * from {{ ref('stg_seeds__stores') }}
),

callback_day as (
    select
        {%- if var('callback_as_of_date', '') %}
        cast('{{ var("callback_as_of_date") }}' as date) as callback_day
        {%- else %}
        least(
            max(cast(answered_at as date)),
            cast({{ dbt.dateadd('day', -1, 'cast(' ~ dbt.current_timestamp() ~ ' as date)') }} as date)
        ) as callback_day
        {%- endif %}
    from answers
),

windowed as (
    select
        answers.*,
        callback_day.callback_day,
        coalesce(
            answers.order_id,
            answers.customer_id,
            answers.email,
            answers.phone,
            answers.loyalty_card_id,
            answers.answer_id
        ) as respondent_key
    from answers
    cross join callback_day
    where cast(answers.answered_at as date) <= callback_day.callback_day
        and cast(answers.answered_at as date)
            > cast({{ dbt.dateadd('day', '-' ~ var('callback_window_days'), 'callback_day.callback_day') }} as date)
),

low as (
    select * from windowed
    where survey in ('csi', 'cx')
        and {{ is_low_score('score') }}
),

{# All low questions of the respondent's response that day, for the caller. -#}
low_questions as (
    select
        respondent_key,
        cast(answered_at as date) as answered_on,
        {{ dbt.listagg("concat(question, '=', cast(score as " ~ dbt.type_string() ~ "))", "', '", "order by question") }}
            as low_questions
    from low
    group by
        respondent_key,
        cast(answered_at as date)
),

final as (
    select
        low.answer_id,
        low.callback_day,
        low.answered_at,
        low.survey,
        low.question,
        cast(low.score as integer) as score,
        low_questions.low_questions,
        low.comment,
        coalesce(low.store_id, orders.store_id) as store_id,
        stores.store_name,
        low.order_id,
        respondents.customer_id,
        respondents.resolution_method,
        coalesce(low.email, customers.email) as email,
        coalesce(low.phone, customers.phone) as phone,
        coalesce(low.loyalty_card_id, customers.loyalty_card_id) as loyalty_card_id,
        case
            when low.email is not null or low.phone is not null or low.loyalty_card_id is not null
                then 'answer'
            when customers.customer_id is not null then 'customer'
            else 'none'
        end as contact_source,
        low._ingested_at
    from low
    inner join respondents
        on low.answer_id = respondents.answer_id
    left join customers
        on respondents.customer_id = customers.customer_id
    left join orders
        on low.order_id = orders.order_id
    left join stores
        on coalesce(low.store_id, orders.store_id) = stores.store_id
    left join low_questions
        on low.respondent_key = low_questions.respondent_key
        and cast(low.answered_at as date) = low_questions.answered_on
)

select * from final
