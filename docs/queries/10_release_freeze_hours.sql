-- Question: How long were regular releases frozen because of incidents, per product and month, and
-- which incident froze them longest? Open freezes count up to the as-of date. (Overlapping freezes
-- are counted per window here; rpt_reliability_monthly.release_freeze_hours merges overlaps and
-- clips windows to the month: use it for "hours the product could not ship".)
-- Source: fct_release_freezes, dim_products.
select
    f.frozen_month,
    p.product_name,
    count(*) as freezes,
    count(*) filter (where f.is_open) as still_frozen,
    round(sum(f.freeze_minutes_to_date) / 60, 1) as frozen_hours,
    arg_max(f.incident_key, f.freeze_minutes_to_date) as longest_freeze_incident,
    round(max(f.freeze_minutes_to_date) / 60, 1) as longest_freeze_hours
from fct_release_freezes as f
left join dim_products as p on f.product_code = p.product_code
group by all
order by f.frozen_month desc, frozen_hours desc, p.product_name;
