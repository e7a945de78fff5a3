-- What the chaser sends today (var as_of_date), one row per action x reminder stage due today,
-- and to whom. Stages count business days of the business_calendar seed:
--   heads_up        N business days before the due date (var reminder_heads_up_business_days)
--   due_today       on the due date (the last business day before it, when it is a day off)
--   overdue         the first business day after the due date
--   weekly_overdue  every M business days after that while open (var reminder_weekly_every_business_days)
--   escalation      N business days after the due date, to the product channel and the
--                   reliability team (var reminder_escalation_after_business_days)
-- Only open actions with a due date are chased; nothing is sent on a day off. The owner gets a DM
-- while they have a live Slack account; otherwise the product channel does (the reliability team's
-- channel, var reliability_team_channel, when the product has none). rpt_reminder_messages groups
-- these rows into the messages the chaser sends.
with

actions as (

    select * from {{ ref('fct_prevention_actions') }}
    where is_open and due_date is not null

),

products as (

    select * from {{ ref('dim_products') }}

),

business_days as (

    select * from {{ ref('int_business_days_indexed') }}

),

today as (

    select
        calendar_date,
        is_business_day,
        business_day_index
    from business_days
    where calendar_date = {{ as_of_date() }}

),

positioned as (

    -- how many business days today is after the due date's business day (negative: before it)
    select
        actions.*,
        today.business_day_index - due_day.business_day_index as business_days_after_due,
        today.is_business_day as is_business_day_today
    from actions
    inner join business_days as due_day
        on actions.due_date = due_day.calendar_date
    cross join today

),

stages as (

    select positioned.*, 'heads_up' as reminder_stage, 1 as reminder_sequence, 1 as stage_order
    from positioned
    -- counted from the due date's business day (the last business day before it when it is a day off)
    where business_days_after_due = -{{ var('reminder_heads_up_business_days') }}

    union all

    select positioned.*, 'due_today', 1, 2
    from positioned
    where business_days_after_due = 0 and due_date >= {{ as_of_date() }}

    union all

    select positioned.*, 'overdue', 1, 3
    from positioned
    where business_days_after_due = 1

    union all

    select
        positioned.*,
        'weekly_overdue',
        cast((business_days_after_due - 1) / {{ var('reminder_weekly_every_business_days') }} as integer),
        4
    from positioned
    where business_days_after_due > 1
        and (business_days_after_due - 1) % {{ var('reminder_weekly_every_business_days') }} = 0

    union all

    select positioned.*, 'escalation', 1, 5
    from positioned
    where business_days_after_due = {{ var('reminder_escalation_after_business_days') }}

),

addressed as (

    select
        stages.*,
        products.slack_channel as product_slack_channel,
        stages.owner_slack_user_id is not null and not stages.owner_has_left as can_message_owner
    from stages
    left join products
        on stages.product_code = products.product_code
    where stages.is_business_day_today

),

final as (

    select
        action_id || ':' || reminder_stage as reminder_key,
        action_id,
        action_key,
        summary,
        product_code,
        postmortem_key,
        incident_key,
        reminder_stage,
        reminder_sequence,
        stage_order,
        {{ as_of_date() }} as send_on,
        due_date,
        days_overdue,
        business_days_overdue,
        status_name,
        owner_person_id,
        owner_display_name,
        owner_email,
        owner_slack_user_id,
        owner_has_left,
        case
            when reminder_stage = 'escalation' then 'product_channel'
            when can_message_owner then 'owner'
            else 'product_channel'
        end as recipient_type,
        case
            when reminder_stage <> 'escalation' and can_message_owner then owner_slack_user_id
            else coalesce(product_slack_channel, '{{ var("reliability_team_channel") }}')
        end as recipient_slack_id,
        case when reminder_stage = 'escalation' then '{{ var("reliability_team_channel") }}' end as cc_slack_channel,
        -- an owner without a live Slack account is the reason the product channel hears about it
        case
            when reminder_stage = 'escalation' then 'escalation after '
                || {{ var('reminder_escalation_after_business_days') }} || ' business days overdue'
            when not can_message_owner and owner_has_left then 'owner has left'
            when not can_message_owner then 'owner has no Slack account'
        end as routing_reason
    from addressed

)

select * from final
