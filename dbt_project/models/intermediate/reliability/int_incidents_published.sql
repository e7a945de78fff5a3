-- Incidents as the monthly report publishes them, with their month: a month frozen in
-- rpt_reliability_monthly_snapshots from the incidents frozen with it (rpt_incident_snapshots),
-- however the live incidents changed since (late, moved, re-classified, removed); any other
-- month (the open one, a closed one within snapshot_grace_days) from fct_incidents.
{%- set columns = ['incident_id', 'product_code', 'severity', 'detection_route', 'cause_category',
                   'development_category', 'minutes_to_detect', 'minutes_to_acknowledge', 'minutes_to_mitigate',
                   'minutes_to_recover'] %}
with

frozen_months as (

    select distinct month_start from {{ ref('rpt_reliability_monthly_snapshots') }}

),

frozen as (

    select
        published_month as month_start,
        {%- for column in columns %}
        {{ column }},
        {%- endfor %}
        true as is_frozen
    from {{ ref('rpt_incident_snapshots') }}
    where published_month in (select month_start from frozen_months)

),

live as (

    select
        occurred_month as month_start,
        {%- for column in columns %}
        {{ column }},
        {%- endfor %}
        false as is_frozen
    from {{ ref('fct_incidents') }}
    where occurred_month is not null
        and occurred_month not in (select month_start from frozen_months)

),

final as (

    select
        incident_id || ':' || strftime(month_start, '%Y-%m') as incident_month_key,
        *
    from (
        select * from frozen
        union all
        select * from live
    )

)

select * from final
