-- One row per prevention action: owner, due date, status, completion, overdue and on-time flags
-- as of var as_of_date (DECISIONLOG.md "Overdue"). The product comes from config products.actions_from.
-- Incremental: only the actions whose inputs changed are rebuilt (macros/mart_inputs.sql); the
-- columns that depend on "today" are refreshed on every row by the post-hook.
{{ config(
    materialized='incremental',
    unique_key='action_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    post_hook=[
        "{{ save_inputs('action_id', prevention_action_inputs()) }}",
        "{{ refresh_as_of(prevention_action_as_of_columns()) }}",
    ]
) }}
{%- set as_of_columns = prevention_action_as_of_columns() %}
with

actions as (

    select * from {{ ref('stg_jira__actions') }}
    {%- if is_incremental() %}
    where true {{ only_changed_inputs('action_id', 'action_id', prevention_action_inputs()) }}
    {%- endif %}

),

postmortems as (

    select * from {{ ref('stg_jira__postmortems') }}

),

incidents as (

    select * from {{ ref('int_incidents_classified') }}

),

product_aliases as (

    select * from {{ ref('int_product_aliases_unioned') }}

),

people as (

    select * from {{ ref('dim_people') }}

),

due_date_changes as (

    select
        issue_id as action_id,
        count(*) as due_date_change_count,
        -- the due date before the first change: what was originally promised
        arg_min(try_cast(left(from_string, 10) as date), changed_at) as original_due_date
    from {{ ref('stg_jira__changelogs') }}
    where issue_stream = 'actions' and (field_id = 'duedate' or field_name = 'duedate')
    group by issue_id

),

joined as (

    select
        actions.*,
        postmortems.postmortem_key,
        postmortems.incident_id,
        incidents.incident_key,
        -- config products.actions_from: the action's project key, its own product field, or the
        -- product of the incident its postmortem is about
        {% if var('products_actions_from') == 'incident' -%}
        coalesce(incidents.product_code, 'unknown') as product_code,
        {%- elif var('products_actions_from') in ('project', 'field') -%}
        coalesce(product_aliases.product_code, 'unknown') as product_code,
        {%- else -%}
        {{ exceptions.raise_compiler_error("var products_actions_from must be project, field or incident, got "
                                           ~ var('products_actions_from')) }}
        {%- endif %}
        people.person_id as owner_person_id,
        people.email as owner_email,
        people.display_name as owner_display_name,
        people.slack_user_id as owner_slack_user_id,
        people.has_left as owner_has_left,
        coalesce(due_date_changes.due_date_change_count, 0) as due_date_change_count,
        coalesce(due_date_changes.original_due_date, actions.due_date) as original_due_date
    from actions
    left join postmortems
        on actions.postmortem_id = postmortems.postmortem_id
    left join incidents
        on postmortems.incident_id = incidents.incident_id
    left join product_aliases
        on lower(trim({{ 'actions.product_name' if var('products_actions_from') == 'field'
                         else 'actions.project_key' }})) = product_aliases.product_alias
    left join people
        on actions.assignee_account_id = people.jira_account_id
    left join due_date_changes
        on actions.action_id = due_date_changes.action_id

),

resolved as (

    select
        *,
        status_category = 'done'
        and (resolution_name in {{ sql_in_list('jira_cancelled_resolutions') }}
             or status_name in {{ sql_in_list('jira_cancelled_resolutions') }})
            as is_cancelled
    from joined

),

completed as (

    select
        *,
        status_category = 'done' and not is_cancelled as is_completed,
        status_category <> 'done' as is_open,
        case when status_category = 'done' and not is_cancelled then resolved_at end as completed_at,
        case when status_category = 'done' then resolved_at end as closed_at
    from resolved

),

flagged as (

    select
        completed.*,
        {{ local_date('completed_at') }} as completed_date
    from completed

),

final as (

    select
        action_id,
        action_key,
        summary,
        project_key,
        product_code,
        postmortem_id,
        postmortem_key,
        incident_id,
        incident_key,
        status_name,
        status_category,
        resolution_name,
        priority_name,
        is_open,
        is_completed,
        is_cancelled,
        assignee_account_id as owner_account_id,
        owner_person_id,
        owner_email,
        owner_display_name,
        owner_slack_user_id,
        coalesce(owner_has_left, false) as owner_has_left,
        created_at,
        due_date,
        original_due_date,
        due_date_change_count,
        completed_at,
        completed_date,
        closed_at,
        {{ as_of_columns['is_overdue'] }} as is_overdue,
        {{ as_of_columns['days_overdue'] }} as days_overdue,
        {{ as_of_columns['business_days_overdue'] }} as business_days_overdue,
        {{ as_of_columns['is_completed_on_time'] }} as is_completed_on_time,
        {{ as_of_columns['as_of_date'] }} as as_of_date,
        updated_at
    from flagged

)

select * from final
