-- The messages the chaser sends today (var as_of_date): one row per Slack message, with its
-- recipient and the reminders (rpt_overdue_actions rows) it delivers. The sender renders and
-- delivers these rows as they are: who is told about what is decided here.
--   owner            one reminder, to the owner's DM
--   channel          one reminder, to the product channel (the owner cannot be reached)
--   product_digest   the day's escalations, one message per channel they go to
--   team_digest      every escalation of the day, to the reliability team's channel (the cc of
--                    the escalations, var reliability_team_channel)
-- ledger_ids are the chaser's ledger keys, one per reminder, in the order of action_ids: the
-- reminder id (action_id:stage:send_on) for owner and channel messages, plus ':product-digest' or
-- ':team-digest' for the two digests an escalation goes out in (unchanged since the ledger began).
with

reminders as (

    select
        *,
        action_id || ':' || reminder_stage || ':' || strftime(send_on, '%Y-%m-%d') as reminder_id
    from {{ ref('rpt_overdue_actions') }}

),

single_reminders as (

    select
        reminder_id as message_id,
        send_on,
        case when recipient_type = 'owner' then 'owner' else 'channel' end as message_kind,
        reminder_stage,
        stage_order,
        recipient_type,
        recipient_slack_id,
        [product_code] as product_codes,
        [action_id] as action_ids,
        [reminder_id] as reminder_ids,
        [reminder_id] as ledger_ids,
        cast(null as varchar) as cc_slack_channel,
        routing_reason
    from reminders
    where reminder_stage <> 'escalation'

),

escalations as (

    select * from reminders
    where reminder_stage = 'escalation'

),

product_digests as (

    select
        'escalation:' || strftime(send_on, '%Y-%m-%d') || ':product-digest:' || recipient_slack_id as message_id,
        send_on,
        'product_digest' as message_kind,
        'escalation' as reminder_stage,
        max(stage_order) as stage_order,
        'product_channel' as recipient_type,
        recipient_slack_id,
        list(distinct product_code order by product_code) as product_codes,
        list(action_id order by product_code, action_key, action_id) as action_ids,
        list(reminder_id order by product_code, action_key, action_id) as reminder_ids,
        list(reminder_id || ':product-digest' order by product_code, action_key, action_id) as ledger_ids,
        max(cc_slack_channel) as cc_slack_channel,
        max(routing_reason) as routing_reason
    from escalations
    group by send_on, recipient_slack_id

),

team_digests as (

    select
        'escalation:' || strftime(send_on, '%Y-%m-%d') || ':team-digest' as message_id,
        send_on,
        'team_digest' as message_kind,
        'escalation' as reminder_stage,
        max(stage_order) as stage_order,
        'team_channel' as recipient_type,
        cc_slack_channel as recipient_slack_id,
        list(distinct product_code order by product_code) as product_codes,
        list(action_id order by product_code, action_key, action_id) as action_ids,
        list(reminder_id order by product_code, action_key, action_id) as reminder_ids,
        list(reminder_id || ':team-digest' order by product_code, action_key, action_id) as ledger_ids,
        cast(null as varchar) as cc_slack_channel,
        max(routing_reason) as routing_reason
    from escalations
    group by send_on, cc_slack_channel

),

final as (

    select * from single_reminders
    union all
    select * from product_digests
    union all
    select * from team_digests

)

select
    message_id,
    send_on,
    message_kind,
    reminder_stage,
    stage_order,
    recipient_type,
    recipient_slack_id,
    product_codes,
    action_ids,
    reminder_ids,
    ledger_ids,
    len(action_ids) as action_count,
    cc_slack_channel,
    routing_reason
from final
