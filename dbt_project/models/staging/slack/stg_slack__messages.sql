-- One row per live Slack message or thread reply. The payload is parsed once, into a struct, and
-- only when a message column is read: DuckDB prunes the unused columns of a view, so readers that
-- need only ids (the deletion sync of int_slack_messages_classified, key tests) parse nothing.
with

source as (

    select * from {{ source('slack', 'messages') }}
    where not is_deleted

),

parsed as (

    select
        source.*,
        from_json(payload, '{
            "ts": "VARCHAR", "thread_ts": "VARCHAR", "user": "VARCHAR", "bot_id": "VARCHAR",
            "subtype": "VARCHAR", "text": "VARCHAR", "reply_count": "VARCHAR", "edited": {"ts": "VARCHAR"},
            "blocks": ["JSON"],
            "attachments": [{
                "fallback": "VARCHAR", "pretext": "VARCHAR", "title": "VARCHAR", "text": "VARCHAR",
                "fields": [{"title": "VARCHAR", "value": "VARCHAR"}], "blocks": ["JSON"]
            }]
        }') as message
    from source

),

renamed as (

    select
        ---------- ids
        source_id as message_id,
        source_key as channel_id,
        message.ts as message_ts,
        message.thread_ts as thread_ts,
        message.user as user_id,
        message.bot_id as bot_id,

        ---------- strings
        message.subtype as subtype,
        -- app and workflow posts may carry their content in blocks only
        coalesce(
            nullif(message.text, ''),
            nullif(array_to_string(
                list_transform(message.blocks, lambda block: json_extract_string(block, '$.text.text')), chr(10)), '')
        ) as message_text,
        -- what the classification patterns read: the text, then the attachments' and the blocks'
        -- text (bots and webhooks often post with an empty `text`), see macros/slack_text.sql
        nullif(concat_ws(chr(10),
            nullif(message.text, ''),
            {{ slack_attachments_text('message.attachments') }},
            {{ slack_blocks_text('message.blocks', "nullif(message.text, '')") }}
        ), '') as full_text,

        ---------- numerics
        coalesce(try_cast(message.reply_count as integer), 0) as reply_count,

        ---------- booleans
        coalesce(message.thread_ts is not null and message.thread_ts <> message.ts, false) as is_thread_reply,

        ---------- timestamps
        to_timestamp(try_cast(message.ts as double)) as posted_at,
        to_timestamp(try_cast(message.edited.ts as double)) as edited_at,
        extracted_at

    from parsed

)

select * from renamed
