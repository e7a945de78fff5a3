-- Question: Where does detection come from (system alerts, customer inquiries, internal reports,
-- business-side SOS), and is the share caught by our own alerts rising? Per quarter, with the median
-- minutes to detect of each route. Routes outside the taxonomy show is_automated = null.
-- Source: fct_incidents, detection_routes (taxonomy reference table).
with incidents as (

    select
        cast(date_trunc('quarter', occurred_month) as date) as quarter_start,
        coalesce(detection_route, '(missing)') as detection_route,
        detection_route as entered_route,
        minutes_to_detect
    from fct_incidents
    where occurred_month is not null

)

select
    i.quarter_start,
    i.detection_route,
    r.name_ja as detection_route_ja,
    r.is_automated,
    count(*) as incidents,
    round(100.0 * count(*) / sum(count(*)) over (partition by i.quarter_start), 1) as share_of_quarter_pct,
    median(i.minutes_to_detect) as detect_median_minutes,
    count(i.minutes_to_detect) as detect_n
from incidents as i
left join detection_routes as r on i.entered_route = r.detection_route
group by i.quarter_start, i.detection_route, r.name_ja, r.is_automated
order by i.quarter_start, incidents desc, i.detection_route;
