-- Record x problem: every incident whose level, detection route, cause or development category is
-- missing or a value no entry of the configured taxonomy claims (config taxonomies.*), whose product
-- is unknown, or whose lifecycle timestamps are out of order; every prevention action (not cancelled)
-- without a due date; every incident or action whose one-value field held several values (the
-- staging column multi_valued_fields, one row per field); and every release whose calendar type is in
-- no configured release type (config taxonomies.release_types). Cause and development category are
-- decided when an incident closes, so their absence is a problem only once it is done.
-- value_record_count: how many records share the problem and the value (`Level 5` in 12 incidents).
with

incidents as (

    select * from {{ ref('fct_incidents') }}

),

actions as (

    select * from {{ ref('fct_prevention_actions') }}

),

releases as (

    select * from {{ ref('fct_releases') }}

),

release_types as (

    select * from {{ ref('int_release_types_configured') }}

),

incident_fields as (

    select
        incident_id,
        unnest(coalesce(multi_valued_fields, [])) as field_name
    from {{ ref('int_incidents_classified') }}

),

action_fields as (

    select
        action_id,
        unnest(coalesce(multi_valued_fields, [])) as field_name
    from {{ ref('stg_jira__actions') }}

),

incident_problems as (

    select incident_id, 'missing_severity' as problem, 'severity' as field_name, severity as field_value
    from incidents where severity is null
    union all
    select incident_id, 'unknown_severity', 'severity', severity
    from incidents where severity is not null and not is_severity_valid
    union all
    select incident_id, 'missing_detection_route', 'detection_route', detection_route
    from incidents where detection_route is null
    union all
    select incident_id, 'unknown_detection_route', 'detection_route', detection_route
    from incidents where detection_route is not null and not is_detection_route_valid
    union all
    select incident_id, 'missing_cause_category', 'cause_category', cause_category
    from incidents where cause_category is null and not is_open
    union all
    select incident_id, 'unknown_cause_category', 'cause_category', cause_category
    from incidents where cause_category is not null and not is_cause_category_valid
    union all
    select incident_id, 'missing_development_category', 'development_category', development_category
    from incidents where development_category is null and not is_open
    union all
    select incident_id, 'unknown_development_category', 'development_category', development_category
    from incidents where development_category is not null and not is_development_category_valid
    union all
    select incident_id, 'unknown_product', 'product', product_label
    from incidents where product_code = 'unknown'
    union all
    select incident_id, 'missing_occurred_at', 'occurred_at', null
    from incidents where occurred_at is null
    union all
    select
        incident_id,
        'timestamps_out_of_order',
        'lifecycle_timestamps',
        -- the pairs that break occurred <= detected <= acknowledged <= mitigated <= recovered
        concat_ws('; ',
            case when introduced_at > occurred_at then 'introduced_at after occurred_at' end,
            case when detected_at < occurred_at then 'detected_at before occurred_at' end,
            case when acknowledged_at < detected_at then 'acknowledged_at before detected_at' end,
            case when mitigated_at < acknowledged_at then 'mitigated_at before acknowledged_at' end,
            case when mitigated_at < occurred_at then 'mitigated_at before occurred_at' end,
            case when recovered_at < mitigated_at then 'recovered_at before mitigated_at' end,
            case when recovered_at < occurred_at then 'recovered_at before occurred_at' end
        )
    from incidents where not timestamps_in_order
    union all
    select distinct incident_id, 'multi_valued_field', field_name, cast(null as varchar)
    from incident_fields

),

incident_rows as (

    select
        'incident' as record_type,
        incidents.incident_id as record_id,
        incidents.incident_key as record_key,
        incident_problems.problem,
        incident_problems.field_name,
        incident_problems.field_value,
        incidents.product_code,
        incidents.status_name,
        incidents.commander_person_id as owner_person_id,
        incidents.occurred_month,
        incidents.created_at
    from incident_problems
    inner join incidents
        on incident_problems.incident_id = incidents.incident_id

),

action_rows as (

    select
        'prevention_action' as record_type,
        action_id as record_id,
        action_key as record_key,
        'action_without_due_date' as problem,
        'due_date' as field_name,
        cast(null as varchar) as field_value,
        product_code,
        status_name,
        owner_person_id,
        cast(null as date) as occurred_month,
        created_at
    from actions
    where due_date is null and not is_cancelled
    union all
    select distinct
        'prevention_action',
        actions.action_id,
        actions.action_key,
        'multi_valued_field',
        action_fields.field_name,
        cast(null as varchar),
        actions.product_code,
        actions.status_name,
        actions.owner_person_id,
        cast(null as date),
        actions.created_at
    from action_fields
    inner join actions
        on action_fields.action_id = actions.action_id

),

release_rows as (

    select
        'release' as record_type,
        releases.release_id as record_id,
        coalesce(releases.version_name, releases.calendar_title) as record_key,
        'unknown_release_type' as problem,
        'release_type' as field_name,
        releases.release_type as field_value,
        releases.product_code,
        releases.calendar_status as status_name,
        cast(null as varchar) as owner_person_id,
        cast(null as date) as occurred_month,
        cast(null as timestamptz) as created_at
    from releases
    left join release_types
        on releases.release_type = release_types.release_type
    where releases.release_type is not null and release_types.release_type is null

),

unioned as (

    select * from incident_rows
    union all
    select * from action_rows
    union all
    select * from release_rows

),

final as (

    select
        record_type || ':' || record_id || ':' || problem
            || case when problem = 'multi_valued_field' then ':' || field_name else '' end as issue_key,
        record_type,
        record_id,
        record_key,
        problem,
        field_name,
        field_value,
        case
            when problem like 'missing_%' or problem = 'action_without_due_date'
                then field_name || ' is empty'
            when problem like 'unknown_%'
                then field_name || ' ' || coalesce('''' || field_value || '''', 'null') || ' is not in the taxonomy'
            when problem = 'multi_valued_field'
                then field_name || ' holds several values; the configured pick counts'
            else field_value
        end as detail,
        count(*) over (partition by record_type, problem, field_name, field_value) as value_record_count,
        product_code,
        status_name,
        owner_person_id,
        occurred_month,
        created_at
    from unioned

)

select * from final
