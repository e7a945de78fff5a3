-- One row per person: the Jira account, Notion user and Slack user of the same e-mail joined.
-- Bots and app accounts are left out. A person is flagged as having left when Jira deactivated
-- the account or Slack deactivated the member. People no source gives an e-mail for stay
-- separate rows keyed by their source id (they cannot be matched safely).
with

jira_users as (

    select * from {{ ref('stg_jira__users') }}
    where account_type = 'atlassian'

),

notion_users as (

    select * from {{ ref('stg_notion__users') }}
    where not is_bot

),

slack_users as (

    select * from {{ ref('stg_slack__users') }}
    where not is_bot

),

jira_keyed as (

    select
        coalesce('email:' || email, 'jira:' || account_id) as person_id,
        *
    from jira_users
    -- one account per e-mail: the active one, then the lowest id
    qualify row_number() over (
        partition by coalesce('email:' || email, 'jira:' || account_id) order by is_active desc, account_id
    ) = 1

),

notion_keyed as (

    select
        coalesce('email:' || email, 'notion:' || user_id) as person_id,
        *
    from notion_users
    qualify row_number() over (
        partition by coalesce('email:' || email, 'notion:' || user_id) order by user_id
    ) = 1

),

slack_keyed as (

    select
        coalesce('email:' || email, 'slack:' || user_id) as person_id,
        *
    from slack_users
    qualify row_number() over (
        partition by coalesce('email:' || email, 'slack:' || user_id) order by is_deactivated, user_id
    ) = 1

),

person_ids as (

    select person_id from jira_keyed
    union
    select person_id from notion_keyed
    union
    select person_id from slack_keyed

),

joined as (

    select
        person_ids.person_id,
        coalesce(jira_keyed.email, notion_keyed.email, slack_keyed.email) as email,
        coalesce(jira_keyed.display_name, slack_keyed.real_name, notion_keyed.display_name) as display_name,
        jira_keyed.account_id as jira_account_id,
        notion_keyed.user_id as notion_user_id,
        slack_keyed.user_id as slack_user_id,
        jira_keyed.is_active as is_jira_active,
        slack_keyed.is_deactivated as is_slack_deactivated,
        coalesce(not jira_keyed.is_active, false) or coalesce(slack_keyed.is_deactivated, false) as has_left
    from person_ids
    left join jira_keyed
        on person_ids.person_id = jira_keyed.person_id
    left join notion_keyed
        on person_ids.person_id = notion_keyed.person_id
    left join slack_keyed
        on person_ids.person_id = slack_keyed.person_id

)

select * from joined
