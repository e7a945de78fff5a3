{#-
  Every figure the monthly reliability report shows, one row per month x scope x metric: scope is a
  product_code or 'all' (every incident of the month, the unknown product included). Each row
  carries the value, the n behind it, the previous month's value, the average of the 12 months
  before and the changes against both, so the report only formats rows.

  The figures are measured in int_report_figures_measured (closed months from the snapshots, the
  open month live; all-product medians over incidents). A new metric: its column there, one entry
  in `metrics` below, its unit test (_reporting__unit_tests.yml) and a label (publish/labels.yaml).
-#}
{#- (metric, value column, n column, unit, higher_is_better, headline key): the columns are
    int_report_figures_measured's; a headline key puts the figure among the report's headline KPIs, in this order -#}
{%- set metrics = [
    ('incident_count', 'incident_count', 'incident_count', 'count', false, 'incidents'),
    ('minutes_to_recover_median', 'minutes_to_recover_median', 'minutes_to_recover_n', 'minutes', false, 'mttr'),
    ('automated_detection_share', 'automated_detection_share', 'incident_count', 'share', true, 'automated'),
    ('postmortem_on_time_rate', 'postmortem_on_time_rate', 'postmortem_on_time_n', 'share', true, 'postmortems'),
    ('action_on_time_rate', 'action_on_time_rate', 'action_on_time_n', 'share', true, 'actions'),
    ('open_overdue_actions_at_month_end', 'open_overdue_actions_at_month_end', 'open_overdue_actions_at_month_end',
        'count', false, 'overdue'),
    ('change_failure_rate', 'change_failure_rate', 'releases_count', 'share', false, 'cfr'),
    ('slo_breached_count', 'slo_breached_count', 'slo_judged_count', 'count', false, 'slo'),
    ('major_incident_count', 'major_incident_count', 'incident_count', 'count', false, none),
    ('postmortems_due_count', 'postmortems_due_count', 'postmortems_due_count', 'count', true, none),
    ('actions_due_count', 'actions_due_count', 'actions_due_count', 'count', true, none),
    ('minutes_to_recover_p90', 'minutes_to_recover_p90', 'minutes_to_recover_n', 'minutes', false, none),
] -%}
{%- for stage in ['detect', 'acknowledge', 'mitigate'] -%}
    {%- for statistic in ['median', 'p90'] -%}
        {%- do metrics.append(('minutes_to_' ~ stage ~ '_' ~ statistic, 'minutes_to_' ~ stage ~ '_' ~ statistic,
            'minutes_to_' ~ stage ~ '_n', 'minutes', false, none)) -%}
    {%- endfor -%}
{%- endfor %}
with

stats as (

    select * from {{ ref('int_report_figures_measured') }}

),

long as (

    -- a metric with neither value nor n is no figure (production rows always have an n)
    select * from (
    {%- for metric, value, n, unit, higher_is_better, headline in metrics %}
    select
        month_start,
        scope,
        is_month_closed,
        is_frozen,
        '{{ metric }}' as metric,
        '{{ unit }}' as unit,
        {{ higher_is_better }} as higher_is_better,
        {% if headline %}'{{ headline }}'{% else %}cast(null as varchar){% endif %} as headline_key,
        {% if headline %}{{ loop.index }}{% else %}cast(null as integer){% endif %} as headline_order,
        cast({{ value }} as double) as value,
        cast({{ n }} as bigint) as n
    from stats
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
    )
    where value is not null or n is not null

),

compared as (

    select
        *,
        case when lag(month_start) over by_month = month_start - interval 1 month
            then lag(value) over by_month end as previous_value,
        case when lag(month_start) over by_month = month_start - interval 1 month
            then lag(n) over by_month end as previous_n,
        avg(value) over prior_12 as avg_12,
        count(value) over prior_12 as avg_12_months
    from long
    window
        by_month as (partition by scope, metric order by month_start),
        prior_12 as (
            partition by scope, metric order by month_start
            range between interval 12 month preceding and interval 1 month preceding
        )

),

final as (

    select
        strftime(month_start, '%Y-%m') || ':' || scope || ':' || metric as figure_key,
        month_start,
        scope,
        case when scope <> 'all' then scope end as product_code,
        metric,
        unit,
        higher_is_better,
        headline_key,
        cast(headline_order as integer) as headline_order,
        value,
        n,
        previous_value,
        previous_n,
        value - previous_value as change_vs_previous,
        avg_12,
        avg_12_months,
        value - avg_12 as change_vs_avg_12,
        is_month_closed,
        is_frozen,
        {{ as_of_date() }} as as_of_date
    from compared

)

select * from final
