-- Incident x change: what differs today from the month-end publication of each closed month.
--   late_arriving      in a published month now, unknown to shinrai when the month was published
--   moved_into_month   in a published month now, but published under another month
--   moved_out_of_month published under this month, now in another one
--   removed            published, now deleted in Jira
--   reclassified_*     severity, detection route, cause or development category, product changed
--   durations_changed  any response-stage minutes or the impact changed
with

published as (

    select * from {{ ref('rpt_incident_snapshots') }}

),

published_months as (

    select month_start, min(published_at) as published_at
    from {{ ref('rpt_reliability_monthly_snapshots') }}
    group by month_start

),

current_incidents as (

    select * from {{ ref('fct_incidents') }}

),

arrived as (

    -- incidents now in a published month that the month's publication does not hold
    select
        current_incidents.incident_id,
        current_incidents.incident_key,
        current_incidents.occurred_month as published_month,
        case when earlier.incident_id is not null then 'moved_into_month' else 'late_arriving' end as change_type,
        cast(null as varchar) as field_name,
        strftime(earlier.published_month, '%Y-%m') as published_value,
        strftime(current_incidents.occurred_month, '%Y-%m') as current_value
    from current_incidents
    inner join published_months
        on current_incidents.occurred_month = published_months.month_start
    left join published as same_month
        on current_incidents.incident_id = same_month.incident_id
        and current_incidents.occurred_month = same_month.published_month
    left join (
        select incident_id, max(published_month) as published_month from published group by incident_id
    ) as earlier
        on current_incidents.incident_id = earlier.incident_id
    where same_month.incident_id is null

),

departed as (

    select
        published.incident_id,
        published.incident_key,
        published.published_month,
        case when current_incidents.incident_id is null then 'removed' else 'moved_out_of_month' end as change_type,
        cast(null as varchar) as field_name,
        strftime(published.published_month, '%Y-%m') as published_value,
        strftime(current_incidents.occurred_month, '%Y-%m') as current_value
    from published
    left join current_incidents
        on published.incident_id = current_incidents.incident_id
    where current_incidents.incident_id is null
        or current_incidents.occurred_month is distinct from published.published_month

),

compared as (

    select
        published.incident_id,
        published.incident_key,
        published.published_month,
        published.severity as published_severity,
        current_incidents.severity as current_severity,
        published.detection_route as published_detection_route,
        current_incidents.detection_route as current_detection_route,
        published.cause_category as published_cause_category,
        current_incidents.cause_category as current_cause_category,
        published.development_category as published_development_category,
        current_incidents.development_category as current_development_category,
        published.product_code as published_product_code,
        current_incidents.product_code as current_product_code,
        (published.minutes_to_detect is distinct from current_incidents.minutes_to_detect
            or published.minutes_to_acknowledge is distinct from current_incidents.minutes_to_acknowledge
            or published.minutes_to_mitigate is distinct from current_incidents.minutes_to_mitigate
            or published.minutes_to_recover is distinct from current_incidents.minutes_to_recover
            or published.impact_minutes is distinct from current_incidents.impact_minutes) as durations_changed,
        published.minutes_to_recover as published_minutes_to_recover,
        current_incidents.minutes_to_recover as current_minutes_to_recover
    from published
    inner join current_incidents
        on published.incident_id = current_incidents.incident_id
        and published.published_month = current_incidents.occurred_month

),

field_changes as (

    {%- for field in ['severity', 'detection_route', 'cause_category', 'development_category', 'product_code'] %}
    select
        incident_id,
        incident_key,
        published_month,
        'reclassified_{{ field | replace("_code", "") }}' as change_type,
        '{{ field }}' as field_name,
        published_{{ field }} as published_value,
        current_{{ field }} as current_value
    from compared
    where published_{{ field }} is distinct from current_{{ field }}
    union all
    {%- endfor %}
    select
        incident_id,
        incident_key,
        published_month,
        'durations_changed' as change_type,
        'minutes_to_recover' as field_name,
        cast(published_minutes_to_recover as varchar) as published_value,
        cast(current_minutes_to_recover as varchar) as current_value
    from compared
    where durations_changed

),

unioned as (

    select * from arrived
    union all
    select * from departed
    union all
    select * from field_changes

),

final as (

    select
        unioned.incident_id || ':' || strftime(unioned.published_month, '%Y-%m') || ':' || unioned.change_type
            as change_key,
        unioned.incident_id,
        unioned.incident_key,
        unioned.published_month,
        published_months.published_at,
        unioned.change_type,
        unioned.field_name,
        unioned.published_value,
        unioned.current_value,
        current_incidents.product_code,
        current_incidents.first_extracted_at
    from unioned
    left join published_months
        on unioned.published_month = published_months.month_start
    left join current_incidents
        on unioned.incident_id = current_incidents.incident_id

)

select * from final
