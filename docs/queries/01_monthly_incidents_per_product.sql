-- Question: How many incidents did each product have per month, by severity, over the last 24 months?
-- The headline chart: month-over-month counts per product. Months are in the reporting time zone and
-- zero-filled; the current month is open (is_month_closed = false) and will still grow. One row per
-- configured severity level (config taxonomies.severities, most severe first); incidents whose level
-- is missing or in no taxonomy are unclassified_severity_incident_count; major_incident_count counts
-- the levels flagged major.
-- Source: rpt_reliability_monthly, rpt_severity_monthly, dim_products.
select
    m.month_start,
    m.is_month_closed,
    p.product_name,
    p.product_name_ja,
    m.incident_count,
    m.major_incident_count,
    s.severity,
    s.severity_rank,
    s.incident_count as severity_incident_count,
    m.unclassified_severity_incident_count,
    m.change_related_incident_count
from rpt_reliability_monthly as m
inner join dim_products as p on m.product_code = p.product_code
inner join rpt_severity_monthly as s on m.product_month_key = s.product_month_key
where m.month_start >= date_trunc('month', m.as_of_date) - interval 23 month
order by m.month_start, p.sort_order, s.severity_rank;
