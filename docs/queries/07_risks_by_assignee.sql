-- Question: Who carries the open System Risk Records, by priority, and is the load skewed to a few
-- people? load_vs_mean = 2.0 means twice the average assignee's load; has_left = true means the
-- risks need a new owner; stale risks have not been reviewed for too long.
-- Source: rpt_risk_assignee_load.
select
    load_rank,
    display_name,
    has_left,
    open_risk_count,
    open_high_count,
    open_medium_count,
    open_low_count,
    open_other_priority_count,
    open_stale_count,
    round(100 * share_of_open_risks, 1) as share_of_open_risks_pct,
    round(load_vs_mean, 2) as load_vs_mean,
    oldest_open_risk_age_days,
    median_days_since_last_review
from rpt_risk_assignee_load
where open_risk_count > 0
order by load_rank, display_name;
