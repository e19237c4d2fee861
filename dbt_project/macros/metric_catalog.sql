{#- The metric catalog: every metric of metric_values is defined here once, as
    numerator / denominator over the components of int_metric_components.
      numerator, denominator: SQL over component columns (denominator none = a
        plain sum, value = numerator)
      scale: value = scale * numerator / denominator
      sample_size: the count behind the value where it matters (surveys)
      dimensions: restrict to these dimensions (default: wherever the
        numerator or denominator components exist)
      grains: restrict to these grains
      strict: a ratio applies only where its numerator's domain has data too
        (spend-based costs: no spend data means no cost, not a cost of 0)
      maturity: 'activation' / 'attribution' = the value can still change until
        the window after the period end has passed (is_complete waits for it) -#}

{% macro metric_components() -%}
    {#- component column -> the source models that produce it -#}
    {{ return({
        'int_metric_orders_aggregated': [
            'orders_placed', 'revenue_orders', 'paying_customers', 'revenue', 'cogs',
            'delivered_with_promise', 'delivered_on_time', 'deviated_orders',
            'collect_orders', 'not_collected_orders'],
        'int_metric_categories_aggregated': ['revenue_orders', 'paying_customers', 'revenue', 'cogs'],
        'int_metric_contacts_aggregated': ['support_contacts'],
        'int_metric_customers_aggregated': [
            'new_customers', 'activated_customers', 'median_days_to_activation',
            'referral_customers', 'acquired_customers', 'paid_acquired_customers',
            'paid_revenue_in_window', 'paid_gross_margin_in_window'],
        'int_metric_leads_aggregated': ['leads', 'qualified_leads', 'converted_leads'],
        'int_metric_spend_aggregated': ['marketing_spend', 'paid_marketing_spend', 'impressions', 'clicks'],
        'int_metric_survey_aggregated': [
            'nps_answers', 'promoters', 'passives', 'detractors', 'csi_answers', 'csi_score_sum',
            'csat_answers', 'scored_answers', 'low_score_answers'],
        'int_metric_churn_aggregated': ['churn_base', 'churned_customers'],
    }) }}
{%- endmacro %}

{% macro metric_catalog() -%}
    {{ return([
        {'metric': 'revenue', 'numerator': 'revenue'},
        {'metric': 'cogs', 'numerator': 'cogs'},
        {'metric': 'gross_margin', 'numerator': 'revenue - cogs'},
        {'metric': 'gross_margin_pct', 'numerator': 'revenue - cogs', 'denominator': 'revenue'},
        {'metric': 'marketing_spend', 'numerator': 'marketing_spend'},
        {'metric': 'contribution_margin',
            'numerator': 'coalesce(revenue, 0) - coalesce(cogs, 0) - coalesce(marketing_spend, 0)',
            'dimensions': ['all']},
        {'metric': 'revenue_orders', 'numerator': 'revenue_orders'},
        {'metric': 'paying_customers', 'numerator': 'paying_customers'},
        {'metric': 'aov', 'numerator': 'revenue', 'denominator': 'revenue_orders'},
        {'metric': 'orders_per_paying_customer', 'numerator': 'revenue_orders', 'denominator': 'paying_customers'},
        {'metric': 'arppu', 'numerator': 'revenue', 'denominator': 'paying_customers'},
        {'metric': 'customer_base', 'numerator': 'customer_base', 'dimensions': ['all']},
        {'metric': 'arpu', 'numerator': 'coalesce(revenue, 0)', 'denominator': 'customer_base', 'dimensions': ['all']},
        {'metric': 'churn_rate', 'numerator': 'churned_customers', 'denominator': 'churn_base', 'grains': ['month']},
        {'metric': 'new_customers', 'numerator': 'new_customers'},
        {'metric': 'activated_customers', 'numerator': 'activated_customers', 'maturity': 'activation'},
        {'metric': 'activation_rate', 'numerator': 'activated_customers', 'denominator': 'new_customers',
            'maturity': 'activation'},
        {'metric': 'time_to_activation', 'numerator': 'median_days_to_activation',
            'sample_size': 'activated_customers', 'maturity': 'activation', 'is_median': true},
        {'metric': 'referral_share', 'numerator': 'referral_customers', 'denominator': 'new_customers'},
        {'metric': 'impressions', 'numerator': 'impressions'},
        {'metric': 'clicks', 'numerator': 'clicks'},
        {'metric': 'ctr', 'numerator': 'clicks', 'denominator': 'impressions'},
        {'metric': 'cpc', 'strict': true, 'numerator': 'marketing_spend', 'denominator': 'clicks'},
        {'metric': 'cpm', 'strict': true, 'numerator': 'marketing_spend', 'denominator': 'impressions', 'scale': 1000},
        {'metric': 'leads', 'numerator': 'leads'},
        {'metric': 'cpl', 'strict': true, 'numerator': 'marketing_spend', 'denominator': 'leads'},
        {'metric': 'qualified_leads', 'numerator': 'qualified_leads'},
        {'metric': 'qualification_rate', 'numerator': 'qualified_leads', 'denominator': 'leads'},
        {'metric': 'cpql', 'strict': true, 'numerator': 'marketing_spend', 'denominator': 'qualified_leads'},
        {'metric': 'lead_conversion_rate', 'numerator': 'converted_leads', 'denominator': 'leads'},
        {'metric': 'acquired_customers', 'numerator': 'acquired_customers',
            'dimensions': ['all', 'channel', 'campaign']},
        {'metric': 'cac', 'strict': true, 'numerator': 'paid_marketing_spend', 'denominator': 'paid_acquired_customers'},
        {'metric': 'roas', 'numerator': 'paid_revenue_in_window', 'denominator': 'paid_marketing_spend',
            'maturity': 'attribution'},
        {'metric': 'channel_roi', 'numerator': 'paid_gross_margin_in_window - paid_marketing_spend',
            'denominator': 'paid_marketing_spend', 'maturity': 'attribution'},
        {'metric': 'nps', 'numerator': '100 * (promoters - detractors)', 'denominator': 'nps_answers',
            'sample_size': 'nps_answers'},
        {'metric': 'promoter_share', 'numerator': 'promoters', 'denominator': 'nps_answers',
            'sample_size': 'nps_answers'},
        {'metric': 'passive_share', 'numerator': 'passives', 'denominator': 'nps_answers',
            'sample_size': 'nps_answers'},
        {'metric': 'detractor_share', 'numerator': 'detractors', 'denominator': 'nps_answers',
            'sample_size': 'nps_answers'},
        {'metric': 'csi', 'numerator': 'csi_score_sum', 'denominator': 'csi_answers', 'sample_size': 'csi_answers'},
        {'metric': 'csat', 'numerator': 'csat_answers', 'denominator': 'csi_answers', 'sample_size': 'csi_answers'},
        {'metric': 'low_score_share', 'numerator': 'low_score_answers', 'denominator': 'scored_answers',
            'sample_size': 'scored_answers'},
        {'metric': 'contact_rate', 'numerator': 'support_contacts', 'denominator': 'revenue_orders'},
        {'metric': 'on_time_rate', 'numerator': 'delivered_on_time', 'denominator': 'delivered_with_promise'},
        {'metric': 'order_deviation_rate', 'numerator': 'deviated_orders', 'denominator': 'orders_placed'},
        {'metric': 'customer_success_index', 'numerator': 'orders_placed - deviated_orders',
            'denominator': 'orders_placed'},
        {'metric': 'not_collected_rate', 'numerator': 'not_collected_orders', 'denominator': 'collect_orders'},
    ]) }}
{%- endmacro %}

{#- True when any component named in the expression has data for the key
    (reads the has_<component> flags of int_metric_values_computed). -#}
{% macro components_present(expression, components) -%}
    {%- set names = modules.re.findall('[a-z_]+', expression) | select('in', components) | list -%}
    {%- if names | length == 0 -%}false{%- else -%}
    ({% for n in names %}has_{{ n }}{{ ' or ' if not loop.last }}{% endfor %})
    {%- endif -%}
{%- endmacro %}
