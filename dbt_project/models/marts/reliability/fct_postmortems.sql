-- One row per postmortem: its incident, due date (recovery date + N days in the reporting zone)
-- and whether it was completed on time (DECISIONLOG.md "Postmortem due date").
-- Incremental: only the postmortems whose inputs changed are rebuilt (macros/mart_inputs.sql); the
-- columns that depend on "today" are refreshed on every row by the post-hook.
{{ config(
    materialized='incremental',
    unique_key='postmortem_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    post_hook=[
        "{{ save_inputs('postmortem_id', postmortem_inputs()) }}",
        "{{ refresh_as_of(postmortem_as_of_columns()) }}",
    ]
) }}
{%- set as_of_columns = postmortem_as_of_columns() %}
with

postmortems as (

    select * from {{ ref('stg_jira__postmortems') }}
    {%- if is_incremental() %}
    where true {{ only_changed_inputs('postmortem_id', 'postmortem_id', postmortem_inputs()) }}
    {%- endif %}

),

incidents as (

    select * from {{ ref('int_incidents_classified') }}

),

products as (

    select * from {{ ref('dim_products') }}

),

product_aliases as (

    select * from {{ ref('int_product_aliases_unioned') }}

),

people as (

    select * from {{ ref('dim_people') }}

),

actions as (

    select * from {{ ref('stg_jira__actions') }}

),

changelogs as (

    select * from {{ ref('stg_jira__changelogs') }}
    where issue_stream = 'postmortems'

),

review_started as (

    -- the first status change after creation: the postmortem left its initial status
    select
        issue_id as postmortem_id,
        min(changed_at) as review_started_at
    from changelogs
    where field_id = 'status' or field_name = 'status'
    group by issue_id

),

action_counts as (

    select
        postmortem_id,
        count(*) as action_count
    from actions
    where postmortem_id is not null
    group by postmortem_id

),

joined as (

    select
        postmortems.*,
        incidents.incident_key,
        incidents.recovered_at as incident_recovered_at,
        -- the incident's product; the postmortem's own Product field when it has no incident
        coalesce(incidents.product_code, product_aliases.product_code, 'unknown') as product_code,
        review_started.review_started_at,
        coalesce(action_counts.action_count, 0) as action_count,
        people.person_id as owner_person_id
    from postmortems
    left join incidents
        on postmortems.incident_id = incidents.incident_id
    left join product_aliases
        on lower(trim(postmortems.product_name)) = product_aliases.product_alias
    left join review_started
        on postmortems.postmortem_id = review_started.postmortem_id
    left join action_counts
        on postmortems.postmortem_id = action_counts.postmortem_id
    left join people
        on postmortems.assignee_account_id = people.jira_account_id

),

due as (

    select
        joined.*,
        products.postmortem_within_days,
        {{ local_date('joined.incident_recovered_at') }} + products.postmortem_within_days as due_date,
        case when joined.status_category = 'done' then joined.resolved_at end as completed_at,
        {{ local_date("case when joined.status_category = 'done' then joined.resolved_at end") }} as completed_date
    from joined
    left join products
        on joined.product_code = products.product_code

),

final as (

    select
        postmortem_id,
        postmortem_key,
        incident_id,
        incident_key,
        product_code,
        summary,
        status_name,
        status_category,
        status_category = 'done' as is_completed,
        assignee_account_id as owner_account_id,
        owner_person_id,
        created_at,
        review_started_at,
        completed_at,
        completed_date,
        incident_recovered_at,
        postmortem_within_days,
        due_date,
        {{ as_of_columns['is_on_time'] }} as is_on_time,
        {{ as_of_columns['is_overdue'] }} as is_overdue,
        {{ as_of_columns['days_late'] }} as days_late,
        action_count,
        updated_at
    from due

)

select * from final
