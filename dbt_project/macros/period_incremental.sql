{#- Period-scoped incremental builds of the metric aggregates.

    A daily run changes a few days of data, but an aggregate per day, ISO
    week and month over the whole history used to be recomputed in full. A
    model built this way keeps its rows and, on an incremental run,
    recomputes only the periods that the changes touch:

    1. the model lists the days whose figures may have changed (a CTE with one
       column, affected_day: the order days of rows loaded after the model's
       watermark, the days those rows had before, ...);
    2. affected_periods_ctes() turns them into (grain, period_start) pairs, one
       per grain of var metric_grains: a changed day re-opens its day, its week
       and its month;
    3. the model aggregates only the rows of those periods (in_affected_periods)
       and keeps only the groups of those periods (a week that starts in
       September but is re-opened by a day in October must not yield a
       September month from a few rows);
    4. it appends one marker row per re-opened period (_period_marker = true);
       the replace_periods strategy below deletes every stored row of the
       marked periods and inserts the new rows without the markers. A period
       that has no rows any more (all its orders moved or stopped counting)
       therefore disappears, as it would in a full build.

    Every row carries the watermark of the build that wrote it
    (_source_loaded_until, the newest load time of the source); the next run
    takes the maximum. A model built before it had the watermark column is
    rebuilt in full once (all stored periods marked). Incremental runs happen
    on DuckDB only (on Spark is_incremental() is false), so the DuckDB-only
    UNION ALL BY NAME of the markers is never compiled there. -#}

{#- True when this run may rebuild only the affected periods. -#}
{% macro period_incremental_ready() -%}
    {%- if not is_incremental() -%}{{ return(false) }}{%- endif -%}
    {%- set names = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
    {{ return('_source_loaded_until' in names and '_period_marker' in names) }}
{%- endmacro %}

{#- CTE affected_periods (grain, period_start) from a CTE of affected_day values.
    Emits ", affected_periods as (...)" after the caller's CTEs. -#}
{% macro affected_periods_ctes(days_cte) -%}
affected_periods as (
    {%- for g in metric_grains() %}
    select distinct '{{ g }}' as grain, {{ period_start(g, 'affected_day') }} as period_start
    from {{ days_cte }}
    where affected_day is not null
    {{ 'union all' if not loop.last }}
    {%- endfor %}
)
{%- endmacro %}

{#- Row filter for the base CTE: the row lies in a re-opened period of any grain.
    The range test first lets the engine skip storage blocks of older rows. -#}
{% macro in_affected_periods(timestamp_column) -%}
    {{ timestamp_column }} >= (select cast(min(period_start) as timestamp) from affected_periods)
    and (
        {%- for g in metric_grains() %}
        {{ period_start(g, timestamp_column) }} in (select period_start from affected_periods where grain = '{{ g }}')
        {{- ' or' if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}

{#- The final select of a period-incremental model: the aggregated rows (of the
    re-opened periods only, on an incremental run) with the build's watermark,
    then the markers. `extra_state` adds more state columns (SQL -> name). -#}
{% macro select_with_period_markers(aggregated_cte, loaded_until_sql, ready, extra_state={}) -%}
select
    {{ aggregated_cte }}.*,
    {%- for name, sql in extra_state.items() %}
    {{ sql }} as {{ name }},
    {%- endfor %}
    ({{ loaded_until_sql }}) as _source_loaded_until,
    false as _period_marker
from {{ aggregated_cte }}
{%- if ready %}
inner join affected_periods
    on {{ aggregated_cte }}.grain = affected_periods.grain
    and {{ aggregated_cte }}.period_start = affected_periods.period_start
union all by name
select grain, period_start, true as _period_marker
from affected_periods
{%- elif is_incremental() %}
-- stored without a watermark (built by an older version): replace every period once
union all by name
select distinct grain, period_start, true as _period_marker
from {{ this }}
{%- endif %}
{%- endmacro %}

{#- An aggregate over the stores seed rows (select it from stg_seeds__stores):
    one text that changes when any store's region changes (seeds/stores.csv);
    the aggregates that take a store's region recompute every period then. -#}
{% macro stores_fingerprint() -%}
    {{ dbt.hash(dbt.listagg("concat(store_id, '=', coalesce(region, ''))", "'|'", "order by store_id")) }}
{%- endmacro %}

{#- True when the stored rows were computed with other store regions than
    today's: the caller has a CTE stores_state (fingerprint) and stores
    _stores_fingerprint in every row. -#}
{% macro stores_region_changed() -%}
    (
        select count(distinct _stores_fingerprint) > 1
            or max(_stores_fingerprint) <> (select fingerprint from stores_state)
        from {{ this }}
    )
{%- endmacro %}

{#- The incremental strategy of these models: delete the marked periods, insert
    the new rows. Runs inside the model's transaction. -#}
{% macro get_incremental_replace_periods_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set columns = arg_dict['dest_columns'] | map(attribute='quoted') | join(', ') -%}
    delete from {{ target }}
    where exists (
        select 1 from {{ source }} as marker
        where marker._period_marker
            and marker.grain = {{ target }}.grain
            and marker.period_start = {{ target }}.period_start
    );
    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ source }}
    where not _period_marker
{%- endmacro %}
