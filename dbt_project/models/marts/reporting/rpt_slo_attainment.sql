-- Product x objective x window: each calendar month (reporting time zone) and the rolling 28 days
-- ending on the as-of date. Target, actual with its n, met / at_risk / breached, error budget
-- left and burn rate. Definitions: DECISIONLOG.md "Availability and error budget".
with

spine as (

    select * from {{ ref('int_product_months_spined') }}

),

products as (

    select * from {{ ref('dim_products') }}
    where not is_unknown_member

),

objective_definitions as (

    select * from {{ ref('objective_definitions') }}

),

incidents as (

    select * from {{ ref('fct_incidents') }}

),

actions as (

    select * from {{ ref('fct_prevention_actions') }}

),

windows as (

    select
        spine.product_code,
        'calendar_month' as window_type,
        spine.month_start as window_start_date,
        spine.month_end as window_end_date,
        spine.month_start_at as window_start_at,
        spine.month_end_at as window_end_at
    from spine
    inner join products
        on spine.product_code = products.product_code

    union all

    select
        products.product_code,
        'rolling_28d' as window_type,
        {{ as_of_date() }} - 27 as window_start_date,
        {{ as_of_date() }} as window_end_date,
        {{ local_midnight(as_of_date() ~ ' - 27') }} as window_start_at,
        {{ as_of_end_at() }} as window_end_at
    from products

),

windows_elapsed as (

    select
        *,
        least(window_end_at, {{ as_of_end_at() }}) as elapsed_end_at,
        least(window_end_date, {{ as_of_date() }}) as elapsed_end_date,
        window_end_at <= {{ as_of_end_at() }} as is_window_complete,
        date_diff('second', window_start_at, window_end_at) / 60.0 as window_minutes,
        greatest(date_diff('second', window_start_at, least(window_end_at, {{ as_of_end_at() }})), 0) / 60.0
            as elapsed_minutes
    from windows

),

availability as (

    -- weighted impact minutes inside the window (an incident spanning two windows spends in both)
    select
        windows_elapsed.product_code,
        windows_elapsed.window_type,
        windows_elapsed.window_start_date,
        count(incidents.incident_id) as n,
        coalesce(sum(
            date_diff('second',
                greatest(incidents.occurred_at, windows_elapsed.window_start_at),
                least(coalesce(incidents.mitigated_at, incidents.recovered_at), windows_elapsed.elapsed_end_at)
            ) / 60.0 * incidents.severity_weight
        ), 0) as bad,
        count(*) filter (where incidents.exceeds_single_incident_budget
            and incidents.occurred_at >= windows_elapsed.window_start_at) as policy_incident_count
    from windows_elapsed
    left join incidents
        on windows_elapsed.product_code = incidents.product_code
        and incidents.impact_minutes is not null
        and incidents.severity_weight is not null
        and incidents.occurred_at < windows_elapsed.elapsed_end_at
        and coalesce(incidents.mitigated_at, incidents.recovered_at) > windows_elapsed.window_start_at
    group by all

),

recovery as (

    select
        windows_elapsed.product_code,
        windows_elapsed.window_type,
        windows_elapsed.window_start_date,
        count(incidents.minutes_to_recover) as n,
        median(incidents.minutes_to_recover) as median_minutes_to_recover
    from windows_elapsed
    left join incidents
        on windows_elapsed.product_code = incidents.product_code
        and incidents.occurred_at >= windows_elapsed.window_start_at
        and incidents.occurred_at < windows_elapsed.elapsed_end_at
    group by all

),

postmortem_timeliness as (

    select
        windows_elapsed.product_code,
        windows_elapsed.window_type,
        windows_elapsed.window_start_date,
        count(incidents.postmortem_is_on_time) as n,
        count(*) filter (where not incidents.postmortem_is_on_time) as bad
    from windows_elapsed
    left join incidents
        on windows_elapsed.product_code = incidents.product_code
        and incidents.postmortem_due_date between windows_elapsed.window_start_date and windows_elapsed.elapsed_end_date
    group by all

),

action_timeliness as (

    select
        windows_elapsed.product_code,
        windows_elapsed.window_type,
        windows_elapsed.window_start_date,
        count(actions.is_completed_on_time) as n,
        count(*) filter (where not actions.is_completed_on_time) as bad
    from windows_elapsed
    left join actions
        on windows_elapsed.product_code = actions.product_code
        and not actions.is_cancelled
        and actions.due_date between windows_elapsed.window_start_date and windows_elapsed.elapsed_end_date
    group by all

),

measured as (

    select
        windows_elapsed.*,
        'availability' as objective,
        products.availability_target as target,
        availability.n,
        availability.bad,
        1 - availability.bad / nullif(windows_elapsed.elapsed_minutes, 0) as actual,
        (1 - products.availability_target) * windows_elapsed.window_minutes as error_budget,
        availability.bad / nullif(windows_elapsed.elapsed_minutes, 0) / nullif(1 - products.availability_target, 0)
            as burn_rate,
        availability.policy_incident_count
    from windows_elapsed
    inner join products on windows_elapsed.product_code = products.product_code
    inner join availability
        on windows_elapsed.product_code = availability.product_code
        and windows_elapsed.window_type = availability.window_type
        and windows_elapsed.window_start_date = availability.window_start_date

    union all

    select
        windows_elapsed.*,
        'mttr' as objective,
        products.mttr_target_minutes as target,
        recovery.n,
        null as bad,
        recovery.median_minutes_to_recover as actual,
        null as error_budget,
        null as burn_rate,
        null as policy_incident_count
    from windows_elapsed
    inner join products on windows_elapsed.product_code = products.product_code
    inner join recovery
        on windows_elapsed.product_code = recovery.product_code
        and windows_elapsed.window_type = recovery.window_type
        and windows_elapsed.window_start_date = recovery.window_start_date

    union all

    select
        windows_elapsed.*,
        'postmortem_on_time' as objective,
        products.postmortem_on_time_target as target,
        postmortem_timeliness.n,
        postmortem_timeliness.bad,
        1 - postmortem_timeliness.bad / nullif(postmortem_timeliness.n, 0) as actual,
        (1 - products.postmortem_on_time_target) * postmortem_timeliness.n as error_budget,
        postmortem_timeliness.bad / nullif(postmortem_timeliness.n, 0)
            / nullif(1 - products.postmortem_on_time_target, 0) as burn_rate,
        null as policy_incident_count
    from windows_elapsed
    inner join products on windows_elapsed.product_code = products.product_code
    inner join postmortem_timeliness
        on windows_elapsed.product_code = postmortem_timeliness.product_code
        and windows_elapsed.window_type = postmortem_timeliness.window_type
        and windows_elapsed.window_start_date = postmortem_timeliness.window_start_date

    union all

    select
        windows_elapsed.*,
        'action_on_time' as objective,
        products.action_on_time_target as target,
        action_timeliness.n,
        action_timeliness.bad,
        1 - action_timeliness.bad / nullif(action_timeliness.n, 0) as actual,
        (1 - products.action_on_time_target) * action_timeliness.n as error_budget,
        action_timeliness.bad / nullif(action_timeliness.n, 0)
            / nullif(1 - products.action_on_time_target, 0) as burn_rate,
        null as policy_incident_count
    from windows_elapsed
    inner join products on windows_elapsed.product_code = products.product_code
    inner join action_timeliness
        on windows_elapsed.product_code = action_timeliness.product_code
        and windows_elapsed.window_type = action_timeliness.window_type
        and windows_elapsed.window_start_date = action_timeliness.window_start_date

),

assessed as (

    select
        *,
        case
            when target is null then 'no_target'
            when actual is null then 'no_data'
            when objective = 'mttr' and actual > target then 'breached'
            when objective = 'mttr' and actual > {{ var('error_budget_at_risk_share') }} * target then 'at_risk'
            when objective = 'mttr' then 'met'
            -- 1e-9 absorbs floating-point noise: (1 - 0.9) x 10 is 0.9999999999999998, not 1
            when bad > error_budget + 1e-9 then 'breached'
            when bad >= {{ var('error_budget_at_risk_share') }} * error_budget - 1e-9 and bad > 0 then 'at_risk'
            when not is_window_complete and burn_rate > 1 then 'at_risk'
            else 'met'
        end as status
    from measured

),

final as (

    select
        assessed.product_code || ':' || assessed.objective || ':' || assessed.window_type || ':'
            || strftime(assessed.window_start_date, '%Y-%m-%d') as slo_window_key,
        assessed.product_code,
        assessed.objective,
        objective_definitions.name_en as objective_name,
        objective_definitions.name_ja as objective_name_ja,
        objective_definitions.unit as objective_unit,
        assessed.window_type,
        assessed.window_start_date,
        assessed.window_end_date,
        assessed.window_start_at,
        assessed.window_end_at,
        assessed.is_window_complete,
        assessed.elapsed_minutes / nullif(assessed.window_minutes, 0) as window_elapsed_share,
        assessed.target,
        assessed.actual,
        assessed.n,
        assessed.bad as error_budget_spent,
        assessed.error_budget,
        assessed.error_budget - assessed.bad as error_budget_remaining,
        1 - assessed.bad / nullif(assessed.error_budget, 0) as error_budget_remaining_share,
        assessed.burn_rate,
        assessed.status,
        assessed.policy_incident_count as single_incident_policy_count,
        {{ as_of_date() }} as as_of_date
    from assessed
    left join objective_definitions
        on assessed.objective = objective_definitions.objective

)

select * from final
