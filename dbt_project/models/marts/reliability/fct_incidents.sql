-- One row per live incident: every lifecycle timestamp, the minutes of each response stage,
-- classification checked against the taxonomy, product, attributed release, postmortem and
-- prevention-action status, and its Slack incident channel. Definitions: DECISIONLOG.md.
-- A stage whose start or end is missing, or whose end precedes its start, is null, never zero;
-- such incidents carry timestamps_in_order = false for the quality gate.
-- Incremental: only the incidents whose inputs changed are rebuilt (macros/mart_inputs.sql); the
-- columns that depend on "today" are refreshed on every row by the post-hook.
{{ config(
    materialized='incremental',
    unique_key='incident_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    post_hook=[
        "{{ save_inputs('incident_id', incident_inputs()) }}",
        "{{ refresh_as_of(incident_as_of_columns()) }}",
    ]
) }}
with

incidents as (

    select * from {{ ref('int_incidents_classified') }}
    {%- if is_incremental() %}
    where true {{ only_changed_inputs('incident_id', 'incident_id', incident_inputs()) }}
    {%- endif %}

),

attribution as (

    select * from {{ ref('int_incidents_attributed') }}

),

releases as (

    select * from {{ ref('int_releases_joined') }}

),

products as (

    select * from {{ ref('dim_products') }}

),

people as (

    select * from {{ ref('dim_people') }}

),

postmortems as (

    select * from {{ ref('fct_postmortems') }}

),

actions as (

    select * from {{ ref('fct_prevention_actions') }}

),

slack_channels as (

    select * from {{ ref('int_incident_channels_aggregated') }}

),

stage_minutes as (

    select
        *,
        {{ stage_minutes('occurred_at', 'detected_at') }} as minutes_to_detect,
        {{ stage_minutes('detected_at', 'acknowledged_at') }} as minutes_to_acknowledge,
        {{ stage_minutes('acknowledged_at', 'mitigated_at') }} as minutes_to_mitigate,
        {{ stage_minutes('occurred_at', 'recovered_at') }} as minutes_to_recover,
        {{ stage_minutes('occurred_at', 'coalesce(mitigated_at, recovered_at)') }} as impact_minutes
    from incidents

),

ordered as (

    select
        *,
        -- every present pair of lifecycle timestamps in order (occurred <= detected <= acknowledged
        -- <= mitigated <= recovered; introduced <= occurred)
        coalesce(
            (introduced_at is null or occurred_at is null or introduced_at <= occurred_at)
            and (occurred_at is null or detected_at is null or occurred_at <= detected_at)
            and (detected_at is null or acknowledged_at is null or detected_at <= acknowledged_at)
            and (acknowledged_at is null or mitigated_at is null or acknowledged_at <= mitigated_at)
            and (mitigated_at is null or recovered_at is null or mitigated_at <= recovered_at)
            and (occurred_at is null or recovered_at is null or occurred_at <= recovered_at)
            and (occurred_at is null or mitigated_at is null or occurred_at <= mitigated_at),
            true
        ) as timestamps_in_order
    from stage_minutes

),

postmortem_per_incident as (

    -- an incident's postmortem: the first one created when several are linked
    select
        incident_id,
        count(*) as postmortem_count,
        arg_min(postmortem_id, created_at) as postmortem_id
    from postmortems
    where incident_id is not null
    group by incident_id

),

action_counts as (

    select
        incident_id,
        count(*) as action_count,
        count(*) filter (where is_open) as open_action_count,
        count(*) filter (where is_completed) as completed_action_count,
        count(*) filter (where is_completed_on_time) as completed_on_time_action_count,
        count(*) filter (where is_overdue) as overdue_action_count,
        count(*) filter (where is_cancelled) as cancelled_action_count
    from actions
    where incident_id is not null
    group by incident_id

),

joined as (

    select
        ordered.*,
        products.product_name as product_seed_name,
        products.postmortem_within_days,
        products.error_budget_minutes_28d,
        people.person_id as commander_person_id,
        attribution.is_change_related,
        attribution.attribution_reason,
        attribution.attributed_release_id,
        releases.version_name as attributed_release_name,
        attribution.hours_after_release,
        postmortem_per_incident.postmortem_count,
        postmortems.postmortem_id,
        postmortems.postmortem_key,
        postmortems.is_completed as is_postmortem_completed,
        postmortems.completed_at as postmortem_completed_at,
        postmortems.is_on_time as existing_postmortem_is_on_time,
        action_counts.action_count,
        action_counts.open_action_count,
        action_counts.completed_action_count,
        action_counts.completed_on_time_action_count,
        action_counts.overdue_action_count,
        action_counts.cancelled_action_count,
        slack_channels.channel_id as slack_channel_id,
        slack_channels.channel_name as slack_channel_name,
        slack_channels.declared_at as slack_declared_at,
        slack_channels.ended_at as slack_ended_at,
        slack_channels.human_message_count as slack_message_count,
        slack_channels.participant_count as slack_participant_count,
        slack_channels.status_update_count as slack_status_update_count
    from ordered
    left join products
        on ordered.product_code = products.product_code
    left join people
        on ordered.assignee_account_id = people.jira_account_id
    left join attribution
        on ordered.incident_id = attribution.incident_id
    left join releases
        on attribution.attributed_release_id = releases.release_id
    left join postmortem_per_incident
        on ordered.incident_id = postmortem_per_incident.incident_id
    left join postmortems
        on postmortem_per_incident.postmortem_id = postmortems.postmortem_id
    left join action_counts
        on ordered.incident_id = action_counts.incident_id
    left join slack_channels
        on ordered.incident_key = slack_channels.incident_key

),

postmortem_obligation as (

    select
        *,
        -- a postmortem is owed when the severity requires one, or when one was written anyway
        severity_requires_postmortem or postmortem_id is not null as is_postmortem_required,
        case
            when severity_requires_postmortem or postmortem_id is not null
                then {{ local_date('recovered_at') }} + postmortem_within_days
        end as postmortem_due_date
    from joined

),

final as (

    select
        incident_id,
        incident_key,
        summary,
        product_code,
        coalesce(product_seed_name, product_name) as product_name,
        product_name as product_label,
        severity,
        severity_rank,
        severity_weight,
        is_severity_valid,
        detection_route,
        is_detection_route_valid,
        cause_category,
        is_cause_category_valid,
        development_category,
        is_development_category_valid,
        is_release_category,
        status_name,
        status_category,
        status_category <> 'done' as is_open,
        assignee_account_id as commander_account_id,
        commander_person_id,
        introduced_at,
        occurred_at,
        detected_at,
        acknowledged_at,
        mitigated_at,
        recovered_at,
        resolved_at,
        created_at,
        {{ local_month('occurred_at') }} as occurred_month,
        {{ local_date('occurred_at') }} as occurred_date,
        minutes_to_detect,
        minutes_to_acknowledge,
        minutes_to_mitigate,
        minutes_to_recover,
        impact_minutes,
        impact_minutes * severity_weight as weighted_impact_minutes,
        impact_minutes * severity_weight / nullif(error_budget_minutes_28d, 0) as budget_share_28d,
        coalesce(
            impact_minutes * severity_weight / nullif(error_budget_minutes_28d, 0)
                > {{ var('single_incident_budget_share_limit') }},
            false
        ) as exceeds_single_incident_budget,
        timestamps_in_order,
        coalesce(is_change_related, false) as is_change_related,
        attribution_reason,
        attributed_release_id,
        attributed_release_name,
        hours_after_release,
        is_postmortem_required,
        coalesce(postmortem_count, 0) as postmortem_count,
        postmortem_id,
        postmortem_key,
        case
            when postmortem_id is not null and is_postmortem_completed then 'completed'
            when postmortem_id is not null then 'in_progress'
            when is_postmortem_required then 'missing'
            else 'not_required'
        end as postmortem_status,
        postmortem_due_date,
        postmortem_completed_at,
        case
            when postmortem_id is not null then existing_postmortem_is_on_time
            when is_postmortem_required then {{ on_time_flag('cast(null as date)', 'postmortem_due_date') }}
        end as postmortem_is_on_time,
        coalesce(action_count, 0) as action_count,
        coalesce(open_action_count, 0) as open_action_count,
        coalesce(completed_action_count, 0) as completed_action_count,
        coalesce(completed_on_time_action_count, 0) as completed_on_time_action_count,
        coalesce(overdue_action_count, 0) as overdue_action_count,
        coalesce(cancelled_action_count, 0) as cancelled_action_count,
        slack_channel_id,
        slack_channel_name,
        slack_declared_at,
        slack_ended_at,
        slack_message_count,
        slack_participant_count,
        slack_status_update_count,
        first_extracted_at,
        updated_at
    from postmortem_obligation

)

select * from final
