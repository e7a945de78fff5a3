-- One row per incident key with Slack activity in its incident channel(s): when the response was
-- declared and ended in Slack, and how busy it was.
-- A table, not a view (the intermediate default): read by several marts and their tests, each of
-- which would recompute it (DECISIONLOG.md "Incremental facts").
{{ config(materialized='table') }}
with

messages as (

    select * from {{ ref('int_slack_messages_classified') }}
    where channel_kind = 'incident'

),

channels as (

    select * from {{ ref('stg_slack__channels') }}
    where incident_key is not null

),

activity as (

    select
        incident_key,
        min(posted_at) as first_message_at,
        max(posted_at) as last_message_at,
        min(posted_at) filter (where message_kind = 'declared') as declared_at,
        max(posted_at) filter (where message_kind = 'ended') as ended_at,
        count(*) filter (where not is_system_post and not is_bot_post) as human_message_count,
        count(*) filter (where message_kind = 'status_update') as status_update_count,
        count(distinct user_id) filter (where not is_system_post and not is_bot_post) as participant_count
    from messages
    group by incident_key

),

channel_names as (

    select
        incident_key,
        min(channel_id) as channel_id,
        min(channel_name) as channel_name,
        count(*) as channel_count
    from channels
    group by incident_key

),

aggregated as (

    select
        channel_names.incident_key,
        channel_names.channel_id,
        channel_names.channel_name,
        channel_names.channel_count,
        activity.first_message_at,
        activity.last_message_at,
        activity.declared_at,
        activity.ended_at,
        coalesce(activity.human_message_count, 0) as human_message_count,
        coalesce(activity.status_update_count, 0) as status_update_count,
        coalesce(activity.participant_count, 0) as participant_count
    from channel_names
    left join activity
        on channel_names.incident_key = activity.incident_key

)

select * from aggregated
