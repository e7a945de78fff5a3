-- Question: What share of each product's releases led to an incident (change failure rate) per
-- quarter, and how soon after the release did the first incident start? A release fails when at
-- least one incident is attributed to it (development category says release, or it began within
-- the attribution window after a release of the same product).
-- Source: fct_releases, dim_products.
select
    p.product_name,
    cast(date_trunc('quarter', r.released_month) as date) as quarter_start,
    count(*) as releases,
    count(*) filter (where r.is_change_failure) as failed_releases,
    round(100.0 * count(*) filter (where r.is_change_failure) / count(*), 1) as change_failure_rate_pct,
    count(*) filter (where r.release_type = 'Hotfix') as hotfixes,
    median(r.hours_to_first_incident) as median_hours_to_first_incident
from fct_releases as r
inner join dim_products as p on r.product_code = p.product_code
where r.is_shipped
group by all
order by p.product_name, quarter_start;
