-- One row per product from config products.catalogue (stg_config__products) with its objectives, plus the `unknown` member that
-- facts point at when a source names no known product (so no fact row is silently dropped).
with

products as (

    select * from {{ ref('stg_config__products') }}

),

objectives as (

    select * from {{ ref('stg_config__objectives') }}

),

with_objectives as (

    select
        products.product_code,
        products.product_name,
        products.product_name_ja,
        products.jira_project_key,
        products.owning_team,
        products.owning_team_ja,
        products.slack_channel,
        products.sort_order,
        objectives.availability_target,
        objectives.mttr_target_minutes,
        coalesce(objectives.postmortem_within_days, {{ var('default_postmortem_within_days') }})
            as postmortem_within_days,
        objectives.postmortem_on_time_target,
        objectives.action_on_time_target,
        false as is_unknown_member
    from products
    left join objectives
        on products.product_code = objectives.product_code

),

unknown_member as (

    select
        'unknown' as product_code,
        'Unknown' as product_name,
        '不明' as product_name_ja,
        cast(null as varchar) as jira_project_key,
        cast(null as varchar) as owning_team,
        cast(null as varchar) as owning_team_ja,
        cast(null as varchar) as slack_channel,
        9999 as sort_order,
        cast(null as double) as availability_target,
        cast(null as double) as mttr_target_minutes,
        {{ var('default_postmortem_within_days') }} as postmortem_within_days,
        cast(null as double) as postmortem_on_time_target,
        cast(null as double) as action_on_time_target,
        true as is_unknown_member

),

unioned as (

    select * from with_objectives
    union all
    select * from unknown_member

),

final as (

    select
        product_code,
        product_name,
        product_name_ja,
        jira_project_key,
        owning_team,
        owning_team_ja,
        slack_channel,
        cast(sort_order as integer) as sort_order,
        availability_target,
        mttr_target_minutes,
        cast(postmortem_within_days as integer) as postmortem_within_days,
        postmortem_on_time_target,
        action_on_time_target,
        -- the availability error budget of a 28-day window, in minutes
        (1 - availability_target) * 28 * 1440 as error_budget_minutes_28d,
        is_unknown_member
    from unioned

)

select * from final
