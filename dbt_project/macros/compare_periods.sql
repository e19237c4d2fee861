{#- Each row of a long metric relation (CTE) next to the previous period's and
    the year-earlier period's value of the same metric and key. Equality joins
    only (the shifted period start is computed per row), so it scales. -#}
{% macro compare_with_earlier_periods(relation) %}
    select
        cur.metric,
        cur.grain,
        cur.period_start,
        cur.dimension,
        cur.dimension_value,
        cur.value,
        cur.numerator,
        cur.denominator,
        cur.sample_size,
        cur.maturity,
        cur.cohort_is_complete,
        prev.value as previous_value,
        cur.value - prev.value as change,
        {{ safe_divide('cur.value', 'prev.value') }} - 1 as change_pct,
        year_earlier.value as year_earlier_value,
        cur.value - year_earlier.value as yoy_change,
        {{ safe_divide('cur.value', 'year_earlier.value') }} - 1 as yoy
    from {{ relation }} as cur
    left join {{ relation }} as prev
        on cur.metric = prev.metric
        and cur.grain = prev.grain
        and cur.dimension = prev.dimension
        and cur.dimension_value = prev.dimension_value
        and prev.period_start = {{ shift_period_by_grain('cur.grain', 'cur.period_start', 'previous') }}
    left join {{ relation }} as year_earlier
        on cur.metric = year_earlier.metric
        and cur.grain = year_earlier.grain
        and cur.dimension = year_earlier.dimension
        and cur.dimension_value = year_earlier.dimension_value
        and year_earlier.period_start = {{ shift_period_by_grain('cur.grain', 'cur.period_start', 'year_earlier') }}
{% endmacro %}
