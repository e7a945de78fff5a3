-- Question: Which postmortems are late: completed after their due date (recovery date + the
-- product's postmortem_within_days), still open past it, or never written although the severity
-- requires one? Oldest problems first, with whom to ask.
-- Source: fct_postmortems, fct_incidents, dim_products, dim_people.
with late as (

    select
        case when pm.is_completed then 'completed_late' else 'open_past_due' end as problem,
        pm.postmortem_key,
        pm.incident_key,
        pm.product_code,
        pm.due_date,
        pm.completed_date,
        pm.days_late,
        pm.status_name,
        pm.owner_person_id
    from fct_postmortems as pm
    where pm.is_on_time = false

),

missing as (

    select
        'missing' as problem,
        cast(null as varchar) as postmortem_key,
        i.incident_key,
        i.product_code,
        i.postmortem_due_date as due_date,
        cast(null as date) as completed_date,
        date_diff('day', i.postmortem_due_date, (select max(as_of_date) from rpt_reliability_monthly)) as days_late,
        cast(null as varchar) as status_name,
        i.commander_person_id as owner_person_id
    from fct_incidents as i
    where i.postmortem_status = 'missing' and i.postmortem_is_on_time = false

)

select
    problems.problem,
    problems.postmortem_key,
    problems.incident_key,
    i.severity,
    p.product_name,
    problems.due_date,
    problems.completed_date,
    problems.days_late,
    problems.status_name,
    people.display_name as ask
from (select * from late union all select * from missing) as problems
left join fct_incidents as i on problems.incident_key = i.incident_key
left join dim_products as p on problems.product_code = p.product_code
left join dim_people as people on problems.owner_person_id = people.person_id
order by problems.problem = 'completed_late', problems.days_late desc nulls last, problems.incident_key;
