-- Product x month x configured severity level (config taxonomies.severities): incidents that
-- occurred in the month at that level. Every level appears in every month of the product's spine
-- (zero-filled), so a chart or a check sees the same levels everywhere; incidents whose level is
-- missing or outside the taxonomy are rpt_reliability_monthly.unclassified_severity_incident_count.
with

spine as (

    select * from {{ ref('int_product_months_spined') }}

),

levels as (

    select * from {{ ref('stg_config__severities') }}

),

incidents as (

    select * from {{ ref('fct_incidents') }}

),

counts as (

    select
        product_code,
        occurred_month as month_start,
        severity,
        count(*) as incident_count
    from incidents
    where occurred_month is not null and is_severity_valid
    group by all

),

final as (

    select
        spine.product_code || ':' || strftime(spine.month_start, '%Y-%m') || ':' || levels.severity
            as product_month_severity_key,
        spine.product_code || ':' || strftime(spine.month_start, '%Y-%m') as product_month_key,
        spine.product_code,
        spine.month_start,
        levels.severity,
        levels.severity_rank,
        levels.is_major,
        coalesce(counts.incident_count, 0) as incident_count
    from spine
    cross join levels
    left join counts
        on spine.product_code = counts.product_code
        and spine.month_start = counts.month_start
        and levels.severity = counts.severity

)

select * from final
