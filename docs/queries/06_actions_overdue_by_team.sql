-- Question: Which teams have overdue prevention actions right now, how many, how old, and whose
-- owners have left (their actions need a new owner)? The five most overdue actions are named.
-- "Overdue" is as of the publication's as-of date: open and the due date has passed.
-- Source: fct_prevention_actions, dim_products.
select
    p.owning_team,
    p.owning_team_ja,
    p.slack_channel,
    count(*) as overdue_actions,
    max(a.days_overdue) as oldest_days_overdue,
    median(a.days_overdue) as median_days_overdue,
    count(*) filter (where a.days_overdue > 30) as overdue_more_than_30_days,
    count(distinct a.owner_person_id) as owners,
    count(*) filter (where a.owner_has_left) as owner_has_left,
    array_to_string(list_slice(list(a.action_key order by a.days_overdue desc), 1, 5), ', ') as most_overdue
from fct_prevention_actions as a
inner join dim_products as p on a.product_code = p.product_code
where a.is_overdue
group by all
order by overdue_actions desc, oldest_days_overdue desc, p.owning_team;
