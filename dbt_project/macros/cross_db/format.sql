{#- A number as text with thousands separators and a fixed number of decimals
    (1234.5, 1 -> '1,234.5'), for the sentences of metric_change_explanations.
    Rounded first and + 0.0, so a tiny negative number reads 0.00, not -0.00. -#}
{% macro format_decimal(expression, decimals) -%}
    {{ return(adapter.dispatch('format_decimal', 'flywheel')(expression, decimals)) }}
{%- endmacro %}

{% macro default__format_decimal(expression, decimals) -%}
    format('{:,.{{ decimals }}f}', round(cast({{ expression }} as double), {{ decimals }}) + 0.0)
{%- endmacro %}

{% macro spark__format_decimal(expression, decimals) -%}
    format_number(round(cast({{ expression }} as double), {{ decimals }}) + 0.0, {{ decimals }})
{%- endmacro %}
