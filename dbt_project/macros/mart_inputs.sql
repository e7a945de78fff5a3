{#-
  What each incremental fact's rows are computed from (macros/incremental_marts.sql): one row per
  live record with the signature of its inputs, and the fact's columns that depend on "today".
  An input is named by its landing version (extracted_at changes exactly when the record's payload
  does) or, for a small table read whole, by its values. Over-listing only rebuilds more rows;
  under-listing would leave a row stale, which tests/dbt/test_incremental_equals_full_refresh.py
  (an incremental night against a full refresh, row for row) is there to catch.
-#}

{#- fct_prevention_actions: the action; its postmortem (which incident); that incident (its
    product); the owner's person row; the action's due-date changelog. -#}
{% macro prevention_action_inputs() -%}
    select
        actions.action_id,
        {{ signature([
            'actions.extracted_at', 'actions.mapping_hash',
            'postmortems.extracted_at', 'incidents.extracted_at',
            'people.person_id', 'people.email', 'people.display_name', 'people.slack_user_id', 'people.has_left',
            'changes.changed_through',
        ]) }} as input_signature
    from {{ ref('stg_jira__actions') }} as actions
    left join {{ ref('stg_jira__postmortems') }} as postmortems
        on actions.postmortem_id = postmortems.postmortem_id
    left join {{ ref('int_incidents_classified') }} as incidents
        on postmortems.incident_id = incidents.incident_id
    left join {{ ref('dim_people') }} as people
        on actions.assignee_account_id = people.jira_account_id
    left join (
        select issue_id, max(extracted_at) as changed_through
        from {{ ref('stg_jira__changelogs') }}
        group by issue_id
    ) as changes
        on actions.action_id = changes.issue_id
{%- endmacro %}

{#- Its "today" columns, over the fact's own columns. -#}
{% macro prevention_action_as_of_columns() -%}
    {%- set overdue = overdue_flag('is_open', 'due_date') -%}
    {%- set today_index = "(select bd.business_day_index from " ~ ref('int_business_days_indexed')
                          ~ " as bd where bd.calendar_date = " ~ as_of_date() ~ ")" -%}
    {%- set due_index = "(select bd.business_day_index from " ~ ref('int_business_days_indexed')
                        ~ " as bd where bd.calendar_date = due_date)" -%}
    {{ return({
        'is_overdue': overdue,
        'days_overdue': "case when " ~ overdue ~ " then date_diff('day', due_date, " ~ as_of_date() ~ ") end",
        'business_days_overdue': "case when " ~ overdue ~ " then " ~ today_index ~ " - " ~ due_index ~ " end",
        'is_completed_on_time': "case when not is_cancelled then " ~ on_time_flag('completed_date', 'due_date') ~ " end",
        'as_of_date': as_of_date(),
    }) }}
{%- endmacro %}

{#- fct_postmortems: the postmortem; its incident (key, recovery, product); the actions that point
    at it (their count); its status changelog; the owner's person row. -#}
{% macro postmortem_inputs() -%}
    select
        postmortems.postmortem_id,
        {{ signature([
            'postmortems.extracted_at', 'postmortems.mapping_hash', 'incidents.extracted_at',
            'action_ids.ids', 'people.person_id', 'changes.changed_through',
        ]) }} as input_signature
    from {{ ref('stg_jira__postmortems') }} as postmortems
    left join {{ ref('int_incidents_classified') }} as incidents
        on postmortems.incident_id = incidents.incident_id
    left join (
        select postmortem_id, string_agg(action_id, ',' order by action_id) as ids
        from {{ ref('stg_jira__actions') }}
        group by postmortem_id
    ) as action_ids
        on postmortems.postmortem_id = action_ids.postmortem_id
    left join {{ ref('dim_people') }} as people
        on postmortems.assignee_account_id = people.jira_account_id
    left join (
        select issue_id, max(extracted_at) as changed_through
        from {{ ref('stg_jira__changelogs') }}
        group by issue_id
    ) as changes
        on postmortems.postmortem_id = changes.issue_id
{%- endmacro %}

{% macro postmortem_as_of_columns() -%}
    {{ return({
        'is_on_time': on_time_flag('completed_date', 'due_date'),
        'is_overdue': overdue_flag("status_category <> 'done'", 'due_date'),
        'days_late': "case when completed_at is not null and completed_date > due_date "
                     ~ "then date_diff('day', due_date, completed_date) "
                     ~ "when completed_at is null and " ~ as_of_date() ~ " > due_date "
                     ~ "then date_diff('day', due_date, " ~ as_of_date() ~ ") end",
    }) }}
{%- endmacro %}

{#- fct_incidents: the incident; its attribution and the attributed release's name; the
    commander's person row; what it reads of its postmortems and their actions (the facts built
    before it; their "today" columns are refreshed apart); its Slack channel's figures. -#}
{% macro incident_inputs() -%}
    select
        incidents.incident_id,
        {{ signature([
            'incidents.extracted_at', 'incidents.mapping_hash',
            'attribution.attributed_release_id', 'attribution.attribution_reason', 'attribution.hours_after_release',
            'attribution.is_change_related', 'releases.version_name', 'people.person_id',
            'linked_postmortems.postmortems', 'linked_actions.actions', 'to_json(slack)',
        ]) }} as input_signature
    from {{ ref('int_incidents_classified') }} as incidents
    left join {{ ref('int_incidents_attributed') }} as attribution
        on incidents.incident_id = attribution.incident_id
    left join {{ ref('int_releases_joined') }} as releases
        on attribution.attributed_release_id = releases.release_id
    left join {{ ref('dim_people') }} as people
        on incidents.assignee_account_id = people.jira_account_id
    left join (
        select
            incident_id,
            to_json(list({'id': postmortem_id, 'key': postmortem_key, 'done': is_completed,
                          'completed_at': completed_at, 'created_at': created_at} order by postmortem_id))
                as postmortems
        from {{ ref('fct_postmortems') }}
        group by incident_id
    ) as linked_postmortems
        on incidents.incident_id = linked_postmortems.incident_id
    left join (
        select
            incident_id,
            to_json(list({'id': action_id, 'open': is_open, 'done': is_completed, 'cancelled': is_cancelled}
                         order by action_id)) as actions
        from {{ ref('fct_prevention_actions') }}
        group by incident_id
    ) as linked_actions
        on incidents.incident_id = linked_actions.incident_id
    left join {{ ref('int_incident_channels_aggregated') }} as slack
        on incidents.incident_key = slack.incident_key
{%- endmacro %}

{#- Its "today" columns: the postmortem's on-time flag and the action counts that depend on
    today, read from the facts built before it (as the model joins them); `fact` is the row updated. -#}
{% macro incident_as_of_columns() -%}
    {{ return({
        'postmortem_is_on_time': "case when postmortem_id is not null then (select pm.is_on_time from "
            ~ ref('fct_postmortems') ~ " as pm where pm.postmortem_id = fact.postmortem_id) "
            ~ "when is_postmortem_required then " ~ on_time_flag('cast(null as date)', 'postmortem_due_date') ~ " end",
        'completed_on_time_action_count': "(select count(*) filter (where a.is_completed_on_time) from "
            ~ ref('fct_prevention_actions') ~ " as a where a.incident_id = fact.incident_id)",
        'overdue_action_count': "(select count(*) filter (where a.is_overdue) from "
            ~ ref('fct_prevention_actions') ~ " as a where a.incident_id = fact.incident_id)",
    }) }}
{%- endmacro %}
