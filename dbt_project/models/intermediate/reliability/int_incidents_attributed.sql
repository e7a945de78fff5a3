-- Change attribution, one row per incident (see DECISIONLOG.md "Change attribution"): the latest
-- shipped release of the incident's product at or before occurred_at (an ASOF join), attributed
-- when the development category says release, or when it lies within the attribution window.
-- A table, not a view (the intermediate default): read by several marts and their tests, each of
-- which would recompute it (DECISIONLOG.md "Incremental facts").
{{ config(materialized='table') }}
with

incidents as (

    select * from {{ ref('int_incidents_classified') }}

),

releases as (

    select * from {{ ref('int_releases_joined') }}
    where is_shipped

),

latest_release as (

    select
        incidents.incident_id,
        incidents.is_release_category,
        releases.release_id as latest_release_id,
        releases.released_at as latest_released_at,
        date_diff('second', releases.released_at, incidents.occurred_at) / 3600.0 as hours_after_release
    from incidents
    asof left join releases
        on incidents.product_code = releases.product_code
        and incidents.occurred_at >= releases.released_at

),

attributed as (

    select
        incident_id,
        latest_release_id,
        latest_released_at,
        hours_after_release,
        coalesce(hours_after_release <= {{ var('release_attribution_window_hours') }}, false) as is_within_window,
        case
            when is_release_category then 'development_category'
            when hours_after_release <= {{ var('release_attribution_window_hours') }} then 'release_window'
        end as attribution_reason
    from latest_release

),

final as (

    select
        incident_id,
        attribution_reason is not null as is_change_related,
        attribution_reason,
        case when attribution_reason is not null then latest_release_id end as attributed_release_id,
        case when attribution_reason is not null then latest_released_at end as attributed_released_at,
        case when attribution_reason is not null then hours_after_release end as hours_after_release,
        is_within_window
    from attributed

)

select * from final
