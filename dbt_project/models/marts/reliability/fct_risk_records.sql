-- One row per System Risk Record: status, priority, assignees, product, age, review recency and
-- the stale flag as of var as_of_date, and the Jira incidents and actions it links to (issue keys
-- found in its related-issues and backlog-ticket properties).
with

risks as (

    select * from {{ ref('stg_notion__risk_records') }}

),

product_aliases as (

    select * from {{ ref('int_product_aliases_unioned') }}

),

people as (

    select * from {{ ref('dim_people') }}

),

incidents as (

    select incident_id, incident_key from {{ ref('stg_jira__incidents') }}

),

actions as (

    select action_id, action_key from {{ ref('stg_jira__actions') }}

),

mentioned_keys as (

    select
        risk_record_id,
        unnest({{ jira_keys_in("coalesce(related_issues_text, '') || ' ' || coalesce(backlog_ticket, '')") }})
            as issue_key
    from risks

),

links as (

    select
        mentioned_keys.risk_record_id,
        list_sort(list(mentioned_keys.issue_key) filter (where incidents.incident_id is not null))
            as related_incident_keys,
        list_sort(list(mentioned_keys.issue_key) filter (where actions.action_id is not null))
            as related_action_keys,
        list_sort(list(mentioned_keys.issue_key) filter (where incidents.incident_id is null and actions.action_id is null))
            as unresolved_issue_keys
    from mentioned_keys
    left join incidents
        on mentioned_keys.issue_key = incidents.incident_key
    left join actions
        on mentioned_keys.issue_key = actions.action_key
    group by mentioned_keys.risk_record_id

),

assignees as (

    select
        risks.risk_record_id,
        list(people.person_id order by assignee.position) as assignee_person_ids,
        list(people.display_name order by assignee.position) as assignee_names
    from risks
    cross join unnest(risks.assignee_user_ids) with ordinality as assignee(notion_user_id, position)
    left join people
        on assignee.notion_user_id = people.notion_user_id
    group by risks.risk_record_id

),

joined as (

    select
        risks.*,
        coalesce(product_aliases.product_code, 'unknown') as product_code,
        coalesce(assignees.assignee_person_ids, []) as assignee_person_ids,
        coalesce(assignees.assignee_names, []) as assignee_names,
        coalesce(links.related_incident_keys, []) as related_incident_keys,
        coalesce(links.related_action_keys, []) as related_action_keys,
        coalesce(links.unresolved_issue_keys, []) as unresolved_issue_keys,
        {{ jira_keys_in('risks.backlog_ticket') }}[1] as backlog_issue_key,
        coalesce(risks.status not in {{ sql_in_list('risk_closed_statuses') }}, true) as is_open,
        {{ local_date('coalesce(risks.recognized_at, risks.created_at)') }} as recognized_date,
        {{ local_date('risks.last_reviewed_at') }} as last_reviewed_date
    from risks
    left join product_aliases
        on lower(trim(risks.product_name)) = product_aliases.product_alias
    left join assignees
        on risks.risk_record_id = assignees.risk_record_id
    left join links
        on risks.risk_record_id = links.risk_record_id

),

final as (

    select
        risk_record_id,
        title,
        status,
        is_open,
        priority,
        product_code,
        product_name as product_label,
        assignee_user_ids[1] as primary_assignee_user_id,
        assignee_person_ids[1] as primary_assignee_person_id,
        assignee_person_ids,
        assignee_names,
        len(assignee_user_ids) as assignee_count,
        recognized_at,
        recognized_date,
        created_at,
        last_reviewed_date,
        last_edited_at,
        date_diff('day', recognized_date, {{ as_of_date() }}) as age_days,
        -- never reviewed: counted from when the risk was recognised
        date_diff('day', coalesce(last_reviewed_date, recognized_date), {{ as_of_date() }}) as days_since_last_review,
        is_open
        and date_diff('day', coalesce(last_reviewed_date, recognized_date), {{ as_of_date() }})
            > {{ var('risk_stale_after_days') }} as is_stale,
        related_incident_keys,
        related_action_keys,
        unresolved_issue_keys,
        backlog_issue_key,
        len(related_incident_keys) as linked_incident_count,
        len(related_action_keys) as linked_action_count,
        dashboard_url,
        page_url,
        {{ as_of_date() }} as as_of_date
    from joined

)

select * from final
