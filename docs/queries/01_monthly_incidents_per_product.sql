-- Question: How many incidents did each product have per month, by severity, over the last 24 months?
-- The headline chart: month-over-month counts per product. Months are in the reporting time zone and
-- zero-filled; the current month is open (is_month_closed = false) and will still grow.
-- Source: rpt_reliability_monthly, dim_products.
select
    m.month_start,
    m.is_month_closed,
    p.product_name,
    p.product_name_ja,
    m.incident_count,
    m.sev1_incident_count,
    m.sev2_incident_count,
    m.sev3_incident_count,
    m.sev4_incident_count,
    m.unclassified_severity_incident_count,
    m.change_related_incident_count
from rpt_reliability_monthly as m
inner join dim_products as p on m.product_code = p.product_code
where m.month_start >= date_trunc('month', m.as_of_date) - interval 23 month
order by m.month_start, p.sort_order;
