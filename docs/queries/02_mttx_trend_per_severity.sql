-- Question: Are we getting faster at detecting, acknowledging, mitigating and recovering, per severity?
-- Median and 90th percentile minutes of each response stage per month and severity, over the last
-- 12 months, each with the number of incidents behind it (a stage with a missing timestamp is null,
-- never zero, and is left out of its statistic).
-- Source: fct_incidents.
select
    i.occurred_month,
    coalesce(i.severity, '(missing)') as severity,
    count(*) as incidents,
    median(i.minutes_to_detect) as detect_median_minutes,
    quantile_cont(i.minutes_to_detect, 0.9) as detect_p90_minutes,
    count(i.minutes_to_detect) as detect_n,
    median(i.minutes_to_acknowledge) as acknowledge_median_minutes,
    quantile_cont(i.minutes_to_acknowledge, 0.9) as acknowledge_p90_minutes,
    count(i.minutes_to_acknowledge) as acknowledge_n,
    median(i.minutes_to_mitigate) as mitigate_median_minutes,
    quantile_cont(i.minutes_to_mitigate, 0.9) as mitigate_p90_minutes,
    count(i.minutes_to_mitigate) as mitigate_n,
    median(i.minutes_to_recover) as recover_median_minutes,
    quantile_cont(i.minutes_to_recover, 0.9) as recover_p90_minutes,
    count(i.minutes_to_recover) as recover_n
from fct_incidents as i
where i.occurred_month >= (
    select cast(date_trunc('month', max(as_of_date)) - interval 11 month as date) from rpt_reliability_monthly
)
group by i.occurred_month, coalesce(i.severity, '(missing)')
order by i.occurred_month, severity;
