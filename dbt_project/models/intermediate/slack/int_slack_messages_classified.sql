{#-
  Every live message of the incident and release channels, classified once and kept small (no
  text). Incremental: at 100x sandbox scale Slack holds ~1.2M messages and parsing their JSON is
  what a full rebuild costs, so each build parses only what landed since the last one.
  - New batch: messages (or channels) landed after the watermark, i.e. the newest
    source_landed_at already processed with the current patterns, less var
    incremental_lookback_minutes (a worker with a slow clock; reprocessing is idempotent).
    Changing a Slack pattern var changes patterns_hash, so the watermark is empty and
    everything is reclassified (the hash also names the text read, `full_text`: rows classified
    from the bare `text` by an older version are reclassified once).
  - The patterns read `full_text` (text, attachments and blocks), not the bare `text`: webhook
    and deploy bots post freeze and status messages in attachments with an empty `text`.
  - Deletions: the post-hook drops rows whose message is no longer live in staging (a cheap
    anti-join on ids; DuckDB prunes the JSON columns of the view).
-#}
{%- set patterns_hash = local_md5([
    var('slack_incident_channel_pattern'), var('slack_incident_key_prefix'), var('slack_release_channel'),
    var('slack_freeze_pattern'), var('slack_resume_pattern'), var('slack_product_pattern'),
    var('slack_incident_pattern'), var('slack_status_board_pattern'), var('slack_declared_pattern'),
    var('slack_ended_pattern'), var('slack_status_update_pattern'),
    'full_text'] | join('|')) -%}

{{ config(
    materialized='incremental',
    unique_key='message_id',
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
    post_hook=[
        "delete from {{ this }} where not exists (select 1 from {{ ref('stg_slack__messages') }} as live
            where live.message_id = {{ this }}.message_id)"
    ]
) }}

with

messages as (

    select * from {{ ref('stg_slack__messages') }}

),

channels as (

    select * from {{ ref('stg_slack__channels') }}

),

batch as (

    select
        messages.*,
        channels.channel_name,
        channels.incident_key as channel_incident_key,
        coalesce(channels.is_release_channel, false) as is_release_channel,
        greatest(messages.extracted_at, coalesce(channels.extracted_at, messages.extracted_at)) as source_landed_at
    from messages
    left join channels
        on messages.channel_id = channels.channel_id
    {% if is_incremental() -%}
    where greatest(messages.extracted_at, coalesce(channels.extracted_at, messages.extracted_at)) > coalesce(
        (select max(source_landed_at) from {{ this }} where patterns_hash = '{{ patterns_hash }}')
            - to_minutes({{ var('incremental_lookback_minutes') }}),
        '-infinity'::timestamptz
    )
    {%- endif %}

),

classified as (

    select
        message_id,
        channel_id,
        channel_incident_key as incident_key,
        case
            when is_release_channel then 'release'
            when channel_incident_key is not null then 'incident'
            else 'other'
        end as channel_kind,
        user_id,
        bot_id is not null or coalesce(subtype = 'bot_message', false) as is_bot_post,
        coalesce(subtype not in ('bot_message', 'thread_broadcast', 'me_message', 'file_share'), false)
            as is_system_post,
        is_thread_reply,
        case
            when subtype is not null and subtype not in ('bot_message', 'thread_broadcast', 'me_message', 'file_share')
                then 'system'
            when is_release_channel and {{ regex_matches('full_text', 'slack_freeze_pattern') }}
                then 'release_freeze'
            when is_release_channel and {{ regex_matches('full_text', 'slack_resume_pattern') }}
                then 'release_resume'
            when is_release_channel
                then 'announcement'
            when {{ regex_matches('full_text', 'slack_status_board_pattern') }}
                and (bot_id is not null or subtype = 'bot_message')
                then 'status_board'
            when {{ regex_matches('full_text', 'slack_declared_pattern') }}
                then 'declared'
            when {{ regex_matches('full_text', 'slack_ended_pattern') }}
                then 'ended'
            when {{ regex_matches('full_text', 'slack_status_update_pattern') }}
                then 'status_update'
            else 'chatter'
        end as message_kind,
        case when is_release_channel then trim({{ regex_group('full_text', 'slack_product_pattern', 'product') }}) end
            as product_label,
        case when is_release_channel then {{ regex_group('full_text', 'slack_incident_pattern', 'incident') }} end
            as mentioned_incident_key,
        posted_at,
        edited_at,
        source_landed_at,
        '{{ patterns_hash }}' as patterns_hash
    from batch

)

select * from classified
