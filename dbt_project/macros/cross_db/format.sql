{#- A number as text with thousands separators and a fixed number of decimals
    (1234.5, 1 -> '1,234.5'), for the sentences of metric_change_explanations.
    Rounded first, away from zero by 1e-9 so that a decimal tie stored as
    1.27499999... rounds as 1.275 does on both engines (Spark rounds the
    decimal text, DuckDB the binary value), then + 0.0 so that a tiny
    negative number reads 0.00, not -0.00. -#}
{% macro format_decimal(expression, decimals) -%}
    {{ return(adapter.dispatch('format_decimal', 'flywheel')(expression, decimals)) }}
{%- endmacro %}

{% macro default__format_decimal(expression, decimals) -%}
    format('{:,.{{ decimals }}f}', {{ rounded_for_text(expression, decimals) }})
{%- endmacro %}

{% macro spark__format_decimal(expression, decimals) -%}
    format_number({{ rounded_for_text(expression, decimals) }}, {{ decimals }})
{%- endmacro %}

{% macro rounded_for_text(expression, decimals) -%}
    (round(cast({{ expression }} as double)
        + case when cast({{ expression }} as double) < 0 then -1e-9 else 1e-9 end, {{ decimals }}) + 0.0)
{%- endmacro %}
