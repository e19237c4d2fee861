{#- Delivery punctuality of an order, from its own columns (status, promised_at,
    delivered_at of `alias`): the flag columns of int_orders_punctuality_checked,
    which int_orders_enriched computes inline too (joining the view back to the
    orders would be a second join of every order to every order: docs/benchmarks.md).
    An order without promised_at is neither on time nor late. -#}
{% macro punctuality_flags(alias) -%}
    {%- set delivered -%}
        ({{ alias }}.delivered_at is not null and {{ alias }}.status <> 'cancelled')
    {%- endset -%}
    {%- set promised -%}
        ({{ delivered }} and {{ alias }}.promised_at is not null)
    {%- endset -%}
    {%- set late -%}
        ({{ promised }} and {{ alias }}.delivered_at > {{ alias }}.promised_at)
    {%- endset -%}
        {{ delivered }} as is_delivered,
        {{ promised }} as is_delivered_with_promise,
        ({{ promised }} and {{ alias }}.delivered_at <= {{ alias }}.promised_at) as is_on_time,
        {{ late }} as is_late,
        ({{ alias }}.status in ('cancelled', 'returned') or {{ late }}) as is_deviation
{%- endmacro %}
