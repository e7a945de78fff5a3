-- One row per release (Jira version and/or Notion calendar entry) with the incidents attributed
-- to it (DECISIONLOG.md "Change attribution"). A shipped release with at least one attributed
-- incident is a change failure.
with

releases as (

    select * from {{ ref('int_releases_joined') }}

),

attribution as (

    select * from {{ ref('int_incidents_attributed') }}
    where attributed_release_id is not null

),

incidents as (

    select * from {{ ref('int_incidents_classified') }}

),

attributed_counts as (

    select
        attribution.attributed_release_id as release_id,
        count(*) as attributed_incident_count,
        count(*) filter (where attribution.attribution_reason = 'release_window') as window_attributed_incident_count,
        count(*) filter (where attribution.attribution_reason = 'development_category')
            as category_attributed_incident_count,
        count(*) filter (where attribution.is_within_window) as incidents_within_window_count,
        min(incidents.severity_rank) as worst_severity_rank,
        arg_min(incidents.incident_key, incidents.occurred_at) as first_attributed_incident_key,
        min(incidents.occurred_at) as first_attributed_incident_at
    from attribution
    inner join incidents
        on attribution.incident_id = incidents.incident_id
    group by attribution.attributed_release_id

),

final as (

    select
        releases.release_id,
        releases.version_id,
        releases.calendar_page_id,
        releases.product_code,
        releases.version_name,
        releases.calendar_title,
        releases.release_type,
        releases.calendar_status,
        releases.is_released_in_jira,
        releases.is_shipped,
        releases.released_at,
        releases.has_exact_time,
        {{ local_month('releases.released_at') }} as released_month,
        releases.released_at + to_hours({{ var('release_attribution_window_hours') }}) as attribution_window_ends_at,
        coalesce(attributed_counts.attributed_incident_count, 0) as attributed_incident_count,
        coalesce(attributed_counts.window_attributed_incident_count, 0) as window_attributed_incident_count,
        coalesce(attributed_counts.category_attributed_incident_count, 0) as category_attributed_incident_count,
        coalesce(attributed_counts.incidents_within_window_count, 0) as incidents_within_window_count,
        releases.is_shipped and coalesce(attributed_counts.attributed_incident_count, 0) > 0 as is_change_failure,
        attributed_counts.first_attributed_incident_key,
        attributed_counts.first_attributed_incident_at,
        date_diff('second', releases.released_at, attributed_counts.first_attributed_incident_at) / 3600.0
            as hours_to_first_incident,
        attributed_counts.worst_severity_rank
    from releases
    left join attributed_counts
        on releases.release_id = attributed_counts.release_id

)

select * from final
