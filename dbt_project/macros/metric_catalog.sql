{#- The metric registry: every metric of metric_values and of the tree is
    declared here once. seeds/metric_tree.csv holds only the tree (parent,
    relation, kind, owner, unit, direction); docs/metrics.md's metric tables
    are generated from this list (python -m orchestration.lib.metric_registry).
    Metrics of the catalog proper are numerator / denominator over the
    components of int_metric_components:
      numerator, denominator: SQL over component columns (denominator none = a
        plain sum, value = numerator)
      scale: value = scale * numerator / denominator
      sample_size: the count behind the value where it matters (surveys)
      dimensions: restrict to these dimensions (default: wherever the
        numerator or denominator components exist)
      grains: restrict to these grains (default var metric_grains); the data
        test assert_tree_metrics_have_values expects values at each of them
      strict: a ratio applies only where its numerator's domain has data too
        (spend-based costs: no spend data means no cost, not a cost of 0)
      maturity: 'activation' / 'attribution' = the value can still change until
        the window after the period end has passed (is_complete waits for it)
    A metric that needs more than a ratio of components names the model that
    computes it (computed_in) and that model reads its entry (metric_entry):
      compares: revenue_yoy compares this metric with the year-earlier period
      metric_prefix, suffix: a family of metrics, one per suffix (cx_score_{question},
        retention_m{k}, ltv_m{k}); {question} in its description is the suffix
    Every entry also carries what people read:
      section: the docs/metrics.md table it is listed in
      description: the plain-language line published in marts.metric_tree
      formula, doc_dimensions: the docs/metrics.md columns -#}

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
        {'metric': 'revenue', 'numerator': 'revenue', 'section': 'business',
            'description': 'Sum of quantity x unit_price over items of revenue orders (statuses in var revenue_statuses).',
            'formula': 'sum(quantity x unit_price) over lines of orders with a revenue status',
            'doc_dimensions': 'all, store, region, sales_channel, fulfilment, category'},
        {'metric': 'cogs', 'numerator': 'cogs', 'section': 'business',
            'description': 'Sum of quantity x unit_cost over items of revenue orders.',
            'formula': 'sum(quantity x unit_cost), same lines', 'doc_dimensions': 'as revenue'},
        {'metric': 'gross_margin', 'numerator': 'revenue - cogs', 'section': 'business',
            'description': 'Revenue minus cost of goods of revenue orders.', 'formula': 'revenue - cogs',
            'doc_dimensions': 'as revenue'},
        {'metric': 'gross_margin_pct', 'numerator': 'revenue - cogs', 'denominator': 'revenue',
            'section': 'business', 'description': 'Gross margin / revenue.',
            'formula': '(revenue - cogs) / revenue', 'doc_dimensions': 'as revenue'},
        {'metric': 'marketing_spend', 'numerator': 'marketing_spend', 'section': 'business',
            'description': 'Sum of marketing spend.', 'formula': 'sum(spend)',
            'doc_dimensions': 'all, channel, campaign'},
        {'metric': 'contribution_margin',
            'numerator': 'coalesce(revenue, 0) - coalesce(cogs, 0) - coalesce(marketing_spend, 0)',
            'dimensions': ['all'], 'section': 'business',
            'description': 'Gross margin minus marketing spend: what the business keeps after buying its customers.',
            'formula': 'gross_margin - marketing_spend (a period with no spend or no revenue counts that side as 0; a shop that never delivered spend gets no contribution margin, see "Partial feeds")',
            'doc_dimensions': 'all'},
        {'metric': 'revenue_yoy', 'computed_in': 'int_metric_values_compared', 'compares': 'revenue',
            'section': 'business', 'description': 'Revenue / revenue of the same period a year earlier - 1.',
            'formula': 'revenue / revenue a year earlier - 1 (numerator = revenue - year-earlier revenue, denominator = year-earlier revenue); no row when the year-earlier period has no data',
            'doc_dimensions': 'as revenue'},
        {'metric': 'revenue_orders', 'numerator': 'revenue_orders', 'section': 'revenue',
            'description': 'Orders counted in revenue.',
            'formula': 'orders with a revenue status (category: orders with a line in the category)',
            'doc_dimensions': 'as revenue'},
        {'metric': 'paying_customers', 'numerator': 'paying_customers', 'section': 'revenue',
            'description': 'Distinct customers with at least one revenue order in the period.',
            'formula': 'distinct customers with a revenue order', 'doc_dimensions': 'as revenue'},
        {'metric': 'aov', 'numerator': 'revenue', 'denominator': 'revenue_orders', 'section': 'revenue',
            'description': 'Average check: revenue / revenue orders.', 'formula': 'revenue / revenue_orders',
            'doc_dimensions': 'as revenue'},
        {'metric': 'orders_per_paying_customer', 'numerator': 'revenue_orders',
            'denominator': 'paying_customers', 'section': 'revenue',
            'description': 'Revenue orders / paying customers.',
            'formula': 'revenue_orders / paying_customers', 'doc_dimensions': 'as revenue'},
        {'metric': 'arppu', 'numerator': 'revenue', 'denominator': 'paying_customers', 'section': 'revenue',
            'description': 'Revenue / paying customers.', 'formula': 'revenue / paying_customers',
            'doc_dimensions': 'as revenue'},
        {'metric': 'customer_base', 'numerator': 'customer_base', 'dimensions': ['all'], 'section': 'revenue',
            'description': 'Customers registered on or before the period end.',
            'formula': 'customers registered up to the period end (running total)', 'doc_dimensions': 'all'},
        {'metric': 'arpu', 'numerator': 'coalesce(revenue, 0)', 'denominator': 'customer_base',
            'dimensions': ['all'], 'section': 'revenue', 'description': 'Revenue / customer base.',
            'formula': 'revenue / customer_base', 'doc_dimensions': 'all'},
        {'metric': 'churn_rate', 'numerator': 'churned_customers', 'denominator': 'churn_base',
            'grains': ['month'], 'section': 'revenue',
            'description': 'Share of customers paying in the previous month with no revenue order in this month (month grain).',
            'formula': 'customers paying in month m-1 without a revenue order in m / customers paying in m-1',
            'doc_dimensions': 'all; month only'},
        {'metric_prefix': 'retention_m', 'suffix': '{k}', 'computed_in': 'int_metric_values_cohorts', 'grains': ['month'],
            'section': 'revenue',
            'formula': 'cohort customers with a revenue order in calendar month k after the registration month / cohort size (k = 0..12; purchases before registration count in month 0)',
            'doc_dimensions': 'all, channel, campaign; month (period_start = cohort month)'},
        {'metric_prefix': 'ltv_m', 'suffix': '{k}', 'computed_in': 'int_metric_values_cohorts', 'grains': ['month'],
            'section': 'revenue',
            'formula': 'cumulative gross margin of the cohort up to month k / cohort size (observed)',
            'doc_dimensions': 'as retention_m{k}'},
        {'metric': 'new_customers', 'numerator': 'new_customers', 'section': 'growth',
            'description': 'Customers registered in the period.', 'formula': 'customers registered',
            'doc_dimensions': 'all, channel, campaign, region'},
        {'metric': 'activated_customers', 'numerator': 'activated_customers', 'maturity': 'activation',
            'section': 'growth',
            'description': 'New customers whose first revenue order falls within the activation window of registration.',
            'formula': 'new customers whose first revenue order is at most `activation_window_days` calendar days after the registration date (day 30 activates, day 31 does not)',
            'doc_dimensions': 'as new_customers'},
        {'metric': 'activation_rate', 'numerator': 'activated_customers', 'denominator': 'new_customers',
            'maturity': 'activation', 'section': 'growth',
            'description': 'Activated customers / new customers (by registration period).',
            'formula': 'activated_customers / new_customers', 'doc_dimensions': 'as new_customers'},
        {'metric': 'time_to_activation', 'numerator': 'median_days_to_activation',
            'sample_size': 'activated_customers', 'maturity': 'activation', 'is_median': true,
            'section': 'growth',
            'description': 'Median days from registration to first revenue order over activated customers.',
            'formula': 'median days from the registration date to the first revenue order over activated customers (a purchase before registration counts as day 0; `sample_size` = activated customers)',
            'doc_dimensions': 'as new_customers'},
        {'metric': 'impressions', 'numerator': 'impressions', 'section': 'awareness',
            'description': 'Sum of impressions.', 'formula': 'sum(impressions)',
            'doc_dimensions': 'all, channel, campaign'},
        {'metric': 'clicks', 'numerator': 'clicks', 'section': 'awareness', 'description': 'Sum of clicks.',
            'formula': 'sum(clicks)', 'doc_dimensions': 'all, channel, campaign'},
        {'metric': 'ctr', 'numerator': 'clicks', 'denominator': 'impressions', 'section': 'awareness',
            'description': 'Clicks / impressions.', 'formula': 'clicks / impressions',
            'doc_dimensions': 'all, channel, campaign'},
        {'metric': 'cpc', 'strict': true, 'numerator': 'marketing_spend', 'denominator': 'clicks',
            'section': 'awareness', 'description': 'Marketing spend / clicks.',
            'formula': 'marketing_spend / clicks',
            'doc_dimensions': 'all, channel, campaign (only where there is spend data)'},
        {'metric': 'cpm', 'strict': true, 'numerator': 'marketing_spend', 'denominator': 'impressions',
            'scale': 1000, 'section': 'awareness', 'description': '1000 x marketing spend / impressions.',
            'formula': '1000 x marketing_spend / impressions',
            'doc_dimensions': 'all, channel, campaign (only where there is spend data)'},
        {'metric': 'leads', 'numerator': 'leads', 'section': 'acquisition',
            'description': 'Leads created in the period (duplicates excluded).',
            'formula': 'leads created, quality-gate duplicates excluded (quarantined leads never enter)',
            'doc_dimensions': 'all, channel, campaign'},
        {'metric': 'qualified_leads', 'numerator': 'qualified_leads', 'section': 'acquisition',
            'description': 'Leads with qualified_at set (by lead creation period).',
            'formula': 'leads with qualified_at, by creation period',
            'doc_dimensions': 'all, channel, campaign'},
        {'metric': 'qualification_rate', 'numerator': 'qualified_leads', 'denominator': 'leads',
            'section': 'acquisition',
            'description': 'Qualified leads / leads: lead quality is the counter to lead volume.',
            'formula': 'qualified_leads / leads', 'doc_dimensions': 'all, channel, campaign'},
        {'metric': 'lead_conversion_rate', 'numerator': 'converted_leads', 'denominator': 'leads',
            'section': 'acquisition',
            'description': 'Leads that became customers / leads (by lead creation period).',
            'formula': 'leads that became customers / leads', 'doc_dimensions': 'all, channel, campaign'},
        {'metric': 'cpl', 'strict': true, 'numerator': 'marketing_spend', 'denominator': 'leads',
            'section': 'acquisition', 'description': 'Marketing spend / leads.',
            'formula': 'marketing_spend / leads',
            'doc_dimensions': 'all, channel, campaign (only where there is spend data)'},
        {'metric': 'cpql', 'strict': true, 'numerator': 'marketing_spend', 'denominator': 'qualified_leads',
            'section': 'acquisition', 'description': 'Marketing spend / qualified leads.',
            'formula': 'marketing_spend / qualified_leads',
            'doc_dimensions': 'all, channel, campaign (only where there is spend data)'},
        {'metric': 'acquired_customers', 'numerator': 'acquired_customers',
            'dimensions': ['all', 'channel', 'campaign'], 'section': 'acquisition',
            'description': 'New customers attributed to a lead channel (direct excluded) by registration period.',
            'formula': 'new customers attributed to a lead channel (not direct)',
            'doc_dimensions': 'all, channel, campaign'},
        {'metric': 'cac', 'strict': true, 'numerator': 'paid_marketing_spend',
            'denominator': 'paid_acquired_customers', 'section': 'acquisition',
            'description': 'Spend of paid channels / customers they acquired.',
            'formula': 'spend of paid channels / new customers of paid channels',
            'doc_dimensions': 'all (paid channels), channel, campaign'},
        {'metric': 'roas', 'numerator': 'paid_revenue_in_window', 'denominator': 'paid_marketing_spend',
            'maturity': 'attribution', 'section': 'acquisition',
            'description': 'Revenue of acquired customers within the attribution window / spend.',
            'formula': "revenue of paid-channel customers' revenue orders placed at most `attribution_window_days` calendar days after the registration date (purchases before registration included) / paid spend of the registration period",
            'doc_dimensions': 'all (paid channels), channel, campaign'},
        {'metric': 'channel_roi', 'numerator': 'paid_gross_margin_in_window - paid_marketing_spend',
            'denominator': 'paid_marketing_spend', 'maturity': 'attribution', 'section': 'acquisition',
            'description': '(Gross margin of acquired customers within the attribution window - spend) / spend.',
            'formula': '(gross margin of those customers within the window - paid spend) / paid spend',
            'doc_dimensions': 'all (paid channels), channel, campaign'},
        {'metric': 'ltv_cac', 'computed_in': 'int_metric_values_cohorts', 'grains': ['month'],
            'section': 'acquisition',
            'description': 'Observed ltv at the last cohort month of acquired customers / cac (month grain).',
            'formula': "cumulative gross margin of the period's paid acquired customers up to the last observed month (<= 12) / paid spend; equals ltv_m12 / cac once month 12 is observed",
            'doc_dimensions': 'all (paid channels), channel, campaign; month only'},
        {'metric': 'payback_months', 'computed_in': 'int_metric_values_cohorts', 'grains': ['month'],
            'section': 'acquisition',
            'description': 'First month k since registration where ltv_m{k} >= cac; null if not reached (month grain).',
            'formula': 'first k where cumulative gross margin of the cohort >= its spend (ltv_m{k} >= cac); null while not reached',
            'doc_dimensions': 'all (paid channels), channel, campaign; month only'},
        {'metric': 'referral_share', 'numerator': 'referral_customers', 'denominator': 'new_customers',
            'section': 'referral',
            'description': 'New customers attributed to referral channels / new customers.',
            'formula': 'new customers attributed to channels of group referral / new customers',
            'doc_dimensions': 'all, region (channel: trivially 0 or 1)'},
        {'metric': 'nps', 'numerator': '100 * (promoters - detractors)', 'denominator': 'nps_answers',
            'sample_size': 'nps_answers', 'section': 'cx',
            'description': '100 x (promoters - detractors) / respondents of nps answers.',
            'formula': '100 x (promoters - detractors) / nps answers; promoter >= 9, detractor <= 6',
            'doc_dimensions': 'survey dimensions'},
        {'metric': 'promoter_share', 'numerator': 'promoters', 'denominator': 'nps_answers',
            'sample_size': 'nps_answers', 'section': 'cx',
            'description': 'Share of nps answers scoring 9-10 (also the word-of-mouth proxy of referral).',
            'formula': 'promoters (9-10) / nps answers', 'doc_dimensions': 'survey dimensions'},
        {'metric': 'passive_share', 'numerator': 'passives', 'denominator': 'nps_answers',
            'sample_size': 'nps_answers', 'section': 'cx', 'description': 'Share of nps answers scoring 7-8.',
            'formula': 'passives (7-8) / nps answers', 'doc_dimensions': 'survey dimensions'},
        {'metric': 'detractor_share', 'numerator': 'detractors', 'denominator': 'nps_answers',
            'sample_size': 'nps_answers', 'section': 'cx', 'description': 'Share of nps answers scoring 0-6.',
            'formula': 'detractors (0-6) / nps answers', 'doc_dimensions': 'survey dimensions'},
        {'metric': 'csi', 'numerator': 'csi_score_sum', 'denominator': 'csi_answers',
            'sample_size': 'csi_answers', 'section': 'cx', 'description': 'Mean score of csi answers (1..5).',
            'formula': 'mean score of csi answers', 'doc_dimensions': 'survey dimensions'},
        {'metric': 'csat', 'numerator': 'csat_answers', 'denominator': 'csi_answers',
            'sample_size': 'csi_answers', 'section': 'cx',
            'description': 'Share of csi answers scoring 4 or 5.',
            'formula': 'csi answers scoring >= 4 / csi answers', 'doc_dimensions': 'survey dimensions'},
        {'metric_prefix': 'cx_score_', 'suffix': '{question}', 'computed_in': 'int_metric_values_cx_questions', 'section': 'cx',
            'description': 'Mean score of the cx question {question}.',
            'formula': 'mean score per cx question (new questions appear without code changes)',
            'doc_dimensions': 'survey dimensions'},
        {'metric': 'low_score_share', 'numerator': 'low_score_answers', 'denominator': 'scored_answers',
            'sample_size': 'scored_answers', 'section': 'cx',
            'description': 'Share of csi and cx answers scoring below the low score threshold.',
            'formula': 'csi and cx answers scoring < 3 / csi and cx answers',
            'doc_dimensions': 'survey dimensions'},
        {'metric': 'contact_rate', 'numerator': 'support_contacts', 'denominator': 'revenue_orders',
            'section': 'cx', 'description': 'Support contacts / revenue orders.',
            'formula': "support contacts / revenue orders (contacts by contacted_at; order dimensions from the contact's order)",
            'doc_dimensions': 'order dimensions'},
        {'metric': 'on_time_rate', 'numerator': 'delivered_on_time', 'denominator': 'delivered_with_promise',
            'section': 'cx',
            'description': 'Delivered orders with delivered_at <= promised_at / delivered orders that have promised_at.',
            'formula': 'delivered orders with delivered_at <= promised_at / delivered orders that have promised_at (no promise = left out)',
            'doc_dimensions': 'order dimensions'},
        {'metric': 'order_deviation_rate', 'numerator': 'deviated_orders', 'denominator': 'orders_placed',
            'section': 'cx', 'description': 'Share of orders cancelled, returned or delivered late.',
            'formula': 'orders cancelled, returned or delivered late / orders placed',
            'doc_dimensions': 'order dimensions'},
        {'metric': 'customer_success_index', 'numerator': 'orders_placed - deviated_orders',
            'denominator': 'orders_placed', 'section': 'cx',
            'description': '1 - order_deviation_rate: the customer experience that must not be sacrificed for margin.',
            'formula': '1 - order_deviation_rate (numerator = orders without deviation)',
            'doc_dimensions': 'order dimensions'},
        {'metric': 'not_collected_rate', 'numerator': 'not_collected_orders', 'denominator': 'collect_orders',
            'section': 'cx', 'description': 'Pickup orders cancelled or never collected / pickup orders.',
            'formula': 'pickup / pickup_point orders cancelled, or neither delivered nor returned once `not_collected_grace_days` have passed after promised_at (ordered_at when no promise) by the as-of date / such orders, by order date',
            'doc_dimensions': 'order dimensions'}
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

{#- The registry entry of one metric or metric family (by name or prefix). -#}
{% macro metric_entry(name) -%}
    {%- for m in metric_catalog() -%}
        {%- if m.get('metric', m.get('metric_prefix')) == name -%}{{ return(m) }}{%- endif -%}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error("metric_entry: '" ~ name ~ "' is not in the metric registry (macros/metric_catalog.sql)") }}
{%- endmacro %}

{#- The entry of a metric computed from components (numerator / denominator):
    explaining a change needs the formula, which computed_in metrics do not
    spell in components. -#}
{% macro component_metric_entry(name) -%}
    {%- set m = metric_entry(name) -%}
    {%- if m.get('computed_in') or not m.get('numerator') -%}
        {{ exceptions.raise_compiler_error("'" ~ name ~ "' is computed in " ~ m.get('computed_in', 'another model') ~ ", not from components: it cannot be explained by segments (var explain_metrics)") }}
    {%- endif -%}
    {{ return(m) }}
{%- endmacro %}
