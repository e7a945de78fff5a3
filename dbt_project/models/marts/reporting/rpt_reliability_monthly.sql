-- Product x month (reporting time zone): incident counts (major levels, unclassified; by level:
-- rpt_severity_monthly); median, p90 and mean of
-- every response stage, each with the n behind it; impact; postmortem and action timeliness;
-- open overdue actions at month end; change failure rate; release-freeze hours.
-- Definitions: DECISIONLOG.md (clocks, months, attribution, overdue, change failure rate).
with

spine as (

    select * from {{ ref('int_product_months_spined') }}

),

incidents as (

    select * from {{ ref('fct_incidents') }}

),

actions as (

    select * from {{ ref('fct_prevention_actions') }}

),

releases as (

    select * from {{ ref('fct_releases') }}
    where is_shipped

),

freezes as (

    select * from {{ ref('fct_release_freezes') }}

),

major_levels as (

    select severity from {{ ref('stg_config__severities') }}
    where is_major

),

incident_stats as (

    select
        product_code,
        occurred_month as month_start,
        count(*) as incident_count,
        -- the levels flagged major in config taxonomies.severities (counts by level: rpt_severity_monthly)
        count(*) filter (where is_severity_valid and severity in (select severity from major_levels))
            as major_incident_count,
        count(*) filter (where not is_severity_valid) as unclassified_severity_incident_count,
        count(*) filter (where is_change_related) as change_related_incident_count,
        {%- for stage in ['detect', 'acknowledge', 'mitigate', 'recover'] %}
        median(minutes_to_{{ stage }}) as minutes_to_{{ stage }}_median,
        quantile_cont(minutes_to_{{ stage }}, 0.9) as minutes_to_{{ stage }}_p90,
        avg(minutes_to_{{ stage }}) as minutes_to_{{ stage }}_mean,
        count(minutes_to_{{ stage }}) as minutes_to_{{ stage }}_n,
        {%- endfor %}
        sum(impact_minutes) as impact_minutes_total,
        sum(weighted_impact_minutes) as weighted_impact_minutes_total,
        count(impact_minutes) as impact_minutes_n
    from incidents
    where occurred_month is not null
    group by all

),

postmortem_stats as (

    -- postmortem obligations by the month they fell due (missing postmortems included)
    select
        product_code,
        cast(date_trunc('month', postmortem_due_date) as date) as month_start,
        count(*) as postmortems_due_count,
        count(postmortem_is_on_time) as postmortem_on_time_n,
        count(*) filter (where postmortem_is_on_time) as postmortems_on_time_count
    from incidents
    where postmortem_due_date is not null
    group by all

),

action_stats as (

    -- actions by the month they fell due; cancelled ones owe nothing
    select
        product_code,
        cast(date_trunc('month', due_date) as date) as month_start,
        count(*) as actions_due_count,
        count(is_completed_on_time) as action_on_time_n,
        count(*) filter (where is_completed_on_time) as actions_completed_on_time_count
    from actions
    where due_date is not null and not is_cancelled
    group by all

),

overdue_at_month_end as (

    -- closed months: open (not closed before the month ended) and due before the month ended;
    -- the current month: overdue as of the as-of date
    select
        spine.product_code,
        spine.month_start,
        count(actions.action_id) as open_overdue_actions_at_month_end
    from spine
    inner join actions
        on spine.product_code = actions.product_code
        and (
            (spine.is_month_closed
                and actions.created_at < spine.month_end_at
                and actions.due_date <= spine.month_end
                and (actions.closed_at is null or actions.closed_at >= spine.month_end_at)
                and not (actions.is_cancelled and actions.closed_at < spine.month_end_at))
            or (not spine.is_month_closed and actions.is_overdue)
        )
    group by all

),

release_stats as (

    select
        product_code,
        released_month as month_start,
        count(*) as releases_count,
        count(*) filter (where is_change_failure) as failed_releases_count
    from releases
    group by all

),

freeze_intervals as (

    select
        product_code,
        frozen_at as starts_at,
        coalesce(resumed_at, greatest(frozen_at, {{ as_of_end_at() }})) as ends_at
    from freezes
    where product_code is not null

),

freeze_islands as (

    -- merge overlapping windows of one product (two incidents freezing at once freeze it once)
    select
        product_code,
        starts_at,
        ends_at,
        sum(case when starts_at > previous_end then 1 else 0 end) over (
            partition by product_code order by starts_at, ends_at rows unbounded preceding
        ) as island
    from (
        select
            *,
            max(ends_at) over (
                partition by product_code order by starts_at, ends_at rows between unbounded preceding and 1 preceding
            ) as previous_end
        from freeze_intervals
    )

),

frozen_periods as (

    select
        product_code,
        min(starts_at) as starts_at,
        max(ends_at) as ends_at
    from freeze_islands
    group by product_code, island

),

freeze_stats as (

    select
        spine.product_code,
        spine.month_start,
        sum(
            date_diff('second',
                greatest(frozen_periods.starts_at, spine.month_start_at),
                least(frozen_periods.ends_at, spine.month_end_at)) / 3600.0
        ) as release_freeze_hours
    from spine
    inner join frozen_periods
        on spine.product_code = frozen_periods.product_code
        and frozen_periods.starts_at < spine.month_end_at
        and frozen_periods.ends_at > spine.month_start_at
    group by all

),

freeze_counts as (

    select
        product_code,
        frozen_month as month_start,
        count(*) as release_freeze_count
    from freezes
    group by all

),

joined as (

    select
        spine.product_code || ':' || strftime(spine.month_start, '%Y-%m') as product_month_key,
        spine.product_code,
        spine.month_start,
        spine.is_month_closed,
        coalesce(incident_stats.incident_count, 0) as incident_count,
        coalesce(incident_stats.major_incident_count, 0) as major_incident_count,
        coalesce(incident_stats.unclassified_severity_incident_count, 0) as unclassified_severity_incident_count,
        coalesce(incident_stats.change_related_incident_count, 0) as change_related_incident_count,
        {%- for stage in ['detect', 'acknowledge', 'mitigate', 'recover'] %}
        incident_stats.minutes_to_{{ stage }}_median,
        incident_stats.minutes_to_{{ stage }}_p90,
        incident_stats.minutes_to_{{ stage }}_mean,
        coalesce(incident_stats.minutes_to_{{ stage }}_n, 0) as minutes_to_{{ stage }}_n,
        {%- endfor %}
        coalesce(incident_stats.impact_minutes_total, 0) as impact_minutes_total,
        coalesce(incident_stats.weighted_impact_minutes_total, 0) as weighted_impact_minutes_total,
        coalesce(incident_stats.impact_minutes_n, 0) as impact_minutes_n,
        coalesce(postmortem_stats.postmortems_due_count, 0) as postmortems_due_count,
        coalesce(postmortem_stats.postmortems_on_time_count, 0) as postmortems_on_time_count,
        coalesce(postmortem_stats.postmortem_on_time_n, 0) as postmortem_on_time_n,
        postmortem_stats.postmortems_on_time_count / nullif(postmortem_stats.postmortem_on_time_n, 0)
            as postmortem_on_time_rate,
        coalesce(action_stats.actions_due_count, 0) as actions_due_count,
        coalesce(action_stats.actions_completed_on_time_count, 0) as actions_completed_on_time_count,
        coalesce(action_stats.action_on_time_n, 0) as action_on_time_n,
        action_stats.actions_completed_on_time_count / nullif(action_stats.action_on_time_n, 0)
            as action_on_time_rate,
        coalesce(overdue_at_month_end.open_overdue_actions_at_month_end, 0) as open_overdue_actions_at_month_end,
        coalesce(release_stats.releases_count, 0) as releases_count,
        coalesce(release_stats.failed_releases_count, 0) as failed_releases_count,
        release_stats.failed_releases_count / nullif(release_stats.releases_count, 0) as change_failure_rate,
        coalesce(freeze_counts.release_freeze_count, 0) as release_freeze_count,
        coalesce(freeze_stats.release_freeze_hours, 0) as release_freeze_hours,
        {{ as_of_date() }} as as_of_date
    from spine
    left join incident_stats
        on spine.product_code = incident_stats.product_code and spine.month_start = incident_stats.month_start
    left join postmortem_stats
        on spine.product_code = postmortem_stats.product_code and spine.month_start = postmortem_stats.month_start
    left join action_stats
        on spine.product_code = action_stats.product_code and spine.month_start = action_stats.month_start
    left join overdue_at_month_end
        on spine.product_code = overdue_at_month_end.product_code
        and spine.month_start = overdue_at_month_end.month_start
    left join release_stats
        on spine.product_code = release_stats.product_code and spine.month_start = release_stats.month_start
    left join freeze_stats
        on spine.product_code = freeze_stats.product_code and spine.month_start = freeze_stats.month_start
    left join freeze_counts
        on spine.product_code = freeze_counts.product_code and spine.month_start = freeze_counts.month_start

)

select * from joined
