-- Month x scope: every figure of the monthly report in one wide row, before rpt_report_figures
-- turns it into one row per metric and compares it with earlier months. Scope is a product_code or
-- 'all' (every incident of the month, the unknown product included; all-product medians and
-- percentiles are over the incidents, never over the products' medians).
--
-- A month frozen in rpt_reliability_monthly_snapshots is read from that publication: per-product
-- counts and rates from the snapshot, incident-level figures from the incidents frozen with it
-- (int_incidents_published). Other months (the open one, a closed one within snapshot_grace_days)
-- are read live. SLO counts come from rpt_slo_attainment's calendar-month windows (not frozen).
{%- set stages = ['detect', 'acknowledge', 'mitigate', 'recover'] %}
with

monthly_live as (

    select * from {{ ref('rpt_reliability_monthly') }}

),

monthly_frozen as (

    select * from {{ ref('rpt_reliability_monthly_snapshots') }}

),

frozen_months as (

    select distinct month_start from monthly_frozen

),

monthly as (

    -- product x month as published: frozen months from the snapshot, the others live
    select
        product_code, month_start, is_month_closed, true as is_frozen,
        postmortems_due_count, postmortems_on_time_count, postmortem_on_time_n,
        actions_due_count, actions_completed_on_time_count, action_on_time_n,
        open_overdue_actions_at_month_end, releases_count, failed_releases_count
    from monthly_frozen
    union all
    select
        product_code, month_start, is_month_closed, false as is_frozen,
        postmortems_due_count, postmortems_on_time_count, postmortem_on_time_n,
        actions_due_count, actions_completed_on_time_count, action_on_time_n,
        open_overdue_actions_at_month_end, releases_count, failed_releases_count
    from monthly_live
    where month_start not in (select month_start from frozen_months)

),

incidents_published as (

    select * from {{ ref('int_incidents_published') }}

),

detection_routes as (

    select * from {{ ref('stg_config__detection_routes') }}

),

severity_levels as (

    select * from {{ ref('stg_config__severities') }}

),

incidents as (

    select
        incidents_published.*,
        coalesce(detection_routes.is_automated, false) as is_automated,
        -- major: the two most severe levels of the severity taxonomy
        coalesce(severity_levels.is_major, false) as is_major
    from incidents_published
    left join detection_routes
        on incidents_published.detection_route = detection_routes.detection_route
    left join severity_levels
        on incidents_published.severity = severity_levels.severity

),

incident_stats as (

    select
        month_start,
        case when grouping(product_code) = 1 then 'all' else product_code end as scope,
        count(*) as incident_count,
        count(*) filter (where is_major) as major_incident_count,
        count(*) filter (where is_automated) as automated_incident_count,
        {%- for stage in stages %}
        median(minutes_to_{{ stage }}) as minutes_to_{{ stage }}_median,
        quantile_cont(minutes_to_{{ stage }}, 0.9) as minutes_to_{{ stage }}_p90,
        count(minutes_to_{{ stage }}) as minutes_to_{{ stage }}_n,
        {%- endfor %}
    from incidents
    group by grouping sets ((month_start, product_code), (month_start))

),

obligation_stats as (

    select
        month_start,
        case when grouping(product_code) = 1 then 'all' else product_code end as scope,
        bool_and(is_month_closed) as is_month_closed,
        bool_and(is_frozen) as is_frozen,
        sum(postmortems_due_count) as postmortems_due_count,
        sum(postmortems_on_time_count) as postmortems_on_time_count,
        sum(postmortem_on_time_n) as postmortem_on_time_n,
        sum(actions_due_count) as actions_due_count,
        sum(actions_completed_on_time_count) as actions_completed_on_time_count,
        sum(action_on_time_n) as action_on_time_n,
        sum(open_overdue_actions_at_month_end) as open_overdue_actions_at_month_end,
        sum(releases_count) as releases_count,
        sum(failed_releases_count) as failed_releases_count
    from monthly
    group by grouping sets ((month_start, product_code), (month_start))

),

slo_stats as (

    -- calendar-month SLO windows (rpt_slo_attainment is not frozen: always the live windows)
    select
        window_start_date as month_start,
        case when grouping(product_code) = 1 then 'all' else product_code end as scope,
        count(*) filter (where status = 'breached') as slo_breached_count,
        count(*) filter (where status in ('met', 'at_risk', 'breached')) as slo_judged_count
    from {{ ref('rpt_slo_attainment') }}
    where window_type = 'calendar_month'
    group by grouping sets ((window_start_date, product_code), (window_start_date))

),

stats as (

    -- one row per month x scope of the monthly spine (the scope 'all' included), zero-filled counts
    select
        strftime(obligation_stats.month_start, '%Y-%m') || ':' || obligation_stats.scope as month_scope_key,
        obligation_stats.month_start,
        obligation_stats.scope,
        obligation_stats.is_month_closed,
        obligation_stats.is_frozen,
        coalesce(incident_stats.incident_count, 0) as incident_count,
        coalesce(incident_stats.major_incident_count, 0) as major_incident_count,
        coalesce(incident_stats.automated_incident_count, 0) as automated_incident_count,
        incident_stats.automated_incident_count / nullif(incident_stats.incident_count, 0)
            as automated_detection_share,
        {%- for stage in stages %}
        incident_stats.minutes_to_{{ stage }}_median,
        incident_stats.minutes_to_{{ stage }}_p90,
        coalesce(incident_stats.minutes_to_{{ stage }}_n, 0) as minutes_to_{{ stage }}_n,
        {%- endfor %}
        obligation_stats.postmortems_due_count,
        obligation_stats.postmortems_on_time_count,
        obligation_stats.postmortem_on_time_n,
        obligation_stats.postmortems_on_time_count / nullif(obligation_stats.postmortem_on_time_n, 0)
            as postmortem_on_time_rate,
        obligation_stats.actions_due_count,
        obligation_stats.actions_completed_on_time_count,
        obligation_stats.action_on_time_n,
        obligation_stats.actions_completed_on_time_count / nullif(obligation_stats.action_on_time_n, 0)
            as action_on_time_rate,
        obligation_stats.open_overdue_actions_at_month_end,
        obligation_stats.releases_count,
        obligation_stats.failed_releases_count,
        obligation_stats.failed_releases_count / nullif(obligation_stats.releases_count, 0) as change_failure_rate,
        coalesce(slo_stats.slo_breached_count, 0) as slo_breached_count,
        coalesce(slo_stats.slo_judged_count, 0) as slo_judged_count
    from obligation_stats
    left join incident_stats
        on obligation_stats.month_start = incident_stats.month_start
        and obligation_stats.scope = incident_stats.scope
    left join slo_stats
        on obligation_stats.month_start = slo_stats.month_start
        and obligation_stats.scope = slo_stats.scope

)

select * from stats
