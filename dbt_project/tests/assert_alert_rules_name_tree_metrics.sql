-- Every alert rule names a metric of the tree: a misspelt rule would never fire.
select rules.metric
from {{ ref('stg_seeds__metric_alert_rules') }} as rules
left join {{ ref('stg_seeds__metric_tree') }} as tree
    on rules.metric = tree.metric
where tree.metric is null

{#- Reads several models: Dagster shows it as a check of the rules. -#}
{{ config(meta={'dagster': {'ref': {'name': 'stg_seeds__metric_alert_rules'}}}) }}
