-- Question: What is each product's SLO status in the current calendar month and over the rolling
-- 28 days (met, at risk, breached), how much error budget is left and how fast is it burning?
-- burn_rate 1.0 spends exactly the budget over the window.
-- Source: rpt_slo_attainment, dim_products.
select
    p.product_name,
    s.objective,
    s.objective_name,
    s.objective_name_ja,
    s.window_type,
    s.window_start_date,
    s.window_end_date,
    round(s.window_elapsed_share, 2) as window_elapsed_share,
    s.target,
    s.actual,
    s.n,
    round(s.error_budget_remaining_share, 3) as error_budget_remaining_share,
    round(s.burn_rate, 2) as burn_rate,
    s.single_incident_policy_count,
    s.status
from rpt_slo_attainment as s
inner join dim_products as p on s.product_code = p.product_code
where s.window_type = 'rolling_28d'
    or s.window_start_date = date_trunc('month', s.as_of_date)
order by p.sort_order, s.objective, s.window_type;
