-- One row per person: the Jira account and Notion user of the same e-mail joined, and the Slack
-- user found for them by config people.match_by (var people_match_by, in order of precedence):
--   email         the Slack user with the same e-mail;
--   display_name  the Slack user, the only one, whose real_name, profile.display_name or
--                 profile.real_name is the person's Jira or Notion name (macro person_name_key):
--                 for accounts whose e-mail Jira hides by profile visibility.
-- Each person takes the candidate of the first method that finds one. Among the Jira accounts
-- (and, apart, among the Notion users) a Slack user goes to the one found by the earliest method;
-- two found the same way get nobody. A Jira account and a Notion user matched to the same Slack
-- user are one person. A person left without a Slack user says why in slack_match_problem (the
-- chaser never DMs a guess).
-- Bots and app accounts are left out. A person is flagged as having left when Jira deactivated
-- the account or Slack deactivated the member. People with no e-mail and no Slack match stay
-- separate rows keyed by their source id. (DECISIONLOG: people matching.)
{%- set match_by = var('people_match_by') %}
{%- set email_rank = (match_by.index('email') + 1) if 'email' in match_by else none %}
{%- set name_rank = (match_by.index('display_name') + 1) if 'display_name' in match_by else none %}
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
        coalesce('email:' || email, 'slack:' || user_id) as slack_person_id,
        *
    from slack_users
    qualify row_number() over (
        partition by coalesce('email:' || email, 'slack:' || user_id) order by is_deactivated, user_id
    ) = 1

),

people as (

    -- the people Jira and Notion know (the same e-mail joined), to be found in Slack
    select person_id from jira_keyed
    union
    select person_id from notion_keyed

),

person_names as (

    select person_id, {{ person_name_key('display_name') }} as name_key from jira_keyed
    union
    select person_id, {{ person_name_key('display_name') }} as name_key from notion_keyed

),

slack_names as (

    -- every name a Slack user goes by (all accounts, deactivated too: a namesake makes a name ambiguous)
    select distinct
        coalesce('email:' || slack_users.email, 'slack:' || slack_users.user_id) as slack_person_id,
        {{ person_name_key('names.name') }} as name_key
    from slack_users
    cross join unnest([slack_users.real_name, slack_users.display_name, slack_users.profile_real_name]) as names (name)

),

email_candidates as (

    select people.person_id, slack_keyed.slack_person_id
    from people
    inner join slack_keyed
        on people.person_id = slack_keyed.slack_person_id
    where people.person_id like 'email:%'

),

name_hits as (

    -- the Slack people each person's names lead to
    select
        person_names.person_id,
        count(distinct slack_names.slack_person_id) as slack_people,
        min(slack_names.slack_person_id) as slack_person_id
    from person_names
    inner join slack_names
        on person_names.name_key = slack_names.name_key
    where person_names.name_key is not null
    group by person_names.person_id

),

candidates as (

    {%- if email_rank %}
    select person_id, slack_person_id, {{ email_rank }} as match_rank, 'email' as matched_by
    from email_candidates
    {%- endif %}
    {%- if email_rank and name_rank %}
    union all
    {%- endif %}
    {%- if name_rank %}
    select person_id, slack_person_id, {{ name_rank }} as match_rank, 'display_name' as matched_by
    from name_hits
    where slack_people = 1
    {%- endif %}

),

best as (

    -- each person's candidate from the first method (in people.match_by order) that finds one
    select * from candidates
    qualify row_number() over (partition by person_id order by match_rank) = 1

),

accounts as (

    -- a person is a Jira account, a Notion user, or both (the same e-mail)
    select person_id, 'jira' as source from jira_keyed
    union all
    select person_id, 'notion' as source from notion_keyed

),

contested as (

    -- per source, a Slack user goes to the one person found by the earliest method; a tie gets nobody
    select
        best.*,
        accounts.source,
        min(best.match_rank) over (partition by best.slack_person_id, accounts.source) as winning_rank,
        count(*) over (partition by best.slack_person_id, accounts.source, best.match_rank) as people_at_rank
    from best
    inner join accounts
        on best.person_id = accounts.person_id

),

matched as (

    -- matched: won the Slack user in every source the person is in
    select person_id, any_value(slack_person_id) as slack_person_id, any_value(matched_by) as matched_by,
        any_value(match_rank) as match_rank
    from contested
    group by person_id
    having bool_and(match_rank = winning_rank and people_at_rank = 1)

),

problems as (

    select
        people.person_id,
        case
            when bool_or(contested.match_rank > contested.winning_rank)
                then 'slack_user_matched_to_another_person'
            when bool_or(contested.person_id is not null)
                then 'display_name_shared_by_several_people'
            when {{ 'true' if name_rank else 'false' }} and max(name_hits.slack_people) > 1
                then 'display_name_ambiguous_in_slack'
            when people.person_id not like 'email:%'
                then 'no_email'
        end as slack_match_problem
    from people
    left join contested
        on people.person_id = contested.person_id
    left join name_hits
        on people.person_id = name_hits.person_id
    where people.person_id not in (select person_id from matched)
    group by people.person_id

),

slack_alone as (

    -- Slack members no Jira or Notion person was matched to: people of their own
    select
        case
            when slack_keyed.slack_person_id in (select person_id from people)
                then 'slack:' || slack_keyed.user_id
            else slack_keyed.slack_person_id
        end as person_id,
        slack_keyed.slack_person_id
    from slack_keyed
    where slack_keyed.slack_person_id not in (select slack_person_id from matched)

),

person_slack as (

    -- a Jira account and a Notion user matched to the same Slack user are one person (named by
    -- the Jira side); people not matched stay as they are; then the Slack-only members
    select
        coalesce(
            max(matched.person_id) filter (where jira_keyed.person_id is not null),
            max(matched.person_id)
        ) as person_id,
        max(matched.person_id) filter (where jira_keyed.person_id is not null) as jira_person_id,
        max(matched.person_id) filter (where notion_keyed.person_id is not null) as notion_person_id,
        matched.slack_person_id,
        arg_min(matched.matched_by, matched.match_rank) as matched_by,
        null as slack_match_problem
    from matched
    left join jira_keyed
        on matched.person_id = jira_keyed.person_id
    left join notion_keyed
        on matched.person_id = notion_keyed.person_id
    group by matched.slack_person_id
    union all
    select
        problems.person_id,
        problems.person_id as jira_person_id,
        problems.person_id as notion_person_id,
        null as slack_person_id,
        null as matched_by,
        problems.slack_match_problem
    from problems
    union all
    select
        person_id, null as jira_person_id, null as notion_person_id, slack_person_id,
        'slack_only' as matched_by, null as slack_match_problem
    from slack_alone

),

joined as (

    select
        -- a person is named by their e-mail wherever one of their accounts shows it (a Jira e-mail
        -- hidden by profile visibility but shown by the Slack profile matched by name gives the same
        -- person_id as a site where Jira shows it), else by the account that names them
        coalesce(
            'email:' || coalesce(jira_keyed.email, notion_keyed.email, slack_keyed.email),
            person_slack.person_id
        ) as person_id,
        -- the Slack profile's e-mail, visible to every member of the workspace, fills one a source hid
        -- (slack_matched_by says how the Slack account was found)
        coalesce(jira_keyed.email, notion_keyed.email, slack_keyed.email) as email,
        coalesce(jira_keyed.display_name, slack_keyed.real_name, notion_keyed.display_name) as display_name,
        jira_keyed.account_id as jira_account_id,
        notion_keyed.user_id as notion_user_id,
        slack_keyed.user_id as slack_user_id,
        case when person_slack.matched_by <> 'slack_only' then person_slack.matched_by end as slack_matched_by,
        person_slack.slack_match_problem,
        jira_keyed.is_active as is_jira_active,
        slack_keyed.is_deactivated as is_slack_deactivated,
        coalesce(not jira_keyed.is_active, false) or coalesce(slack_keyed.is_deactivated, false) as has_left
    from person_slack
    left join jira_keyed
        on person_slack.jira_person_id = jira_keyed.person_id
    left join notion_keyed
        on person_slack.notion_person_id = notion_keyed.person_id
    left join slack_keyed
        on person_slack.slack_person_id = slack_keyed.slack_person_id

)

select * from joined
