-- Month x scope x classification: the monthly report's incident counts by detection route and by
-- development category, from the incidents as published (int_incidents_published: a frozen month as
-- it was published). Scope is a product_code or 'all'. category is the value as entered (null when
-- missing); the report orders and names it from the taxonomy. Each row also carries the count of
-- the 12 months up to and including its month. Rows where both counts are zero are left out.
with

incidents as (

    select * from {{ ref('int_incidents_published') }}

),

months as (

    select distinct month_start from {{ ref('int_product_months_spined') }}

),

counted as (

    select
        month_start,
        case when grouping(product_code) = 1 then 'all' else product_code end as scope,
        'detection_route' as dimension,
        detection_route as category,
        count(*) as incident_count
    from incidents
    group by grouping sets ((month_start, product_code, detection_route), (month_start, detection_route))
    union all
    select
        month_start,
        case when grouping(product_code) = 1 then 'all' else product_code end as scope,
        'development_category' as dimension,
        development_category as category,
        count(*) as incident_count
    from incidents
    group by grouping sets ((month_start, product_code, development_category), (month_start, development_category))

),

series as (

    select distinct scope, dimension, category from counted

),

dense as (

    -- every month for every series, so the 12-month count exists in months without incidents
    select
        months.month_start,
        series.scope,
        series.dimension,
        series.category,
        coalesce(counted.incident_count, 0) as incident_count
    from months
    cross join series
    left join counted
        on months.month_start = counted.month_start
        and series.scope = counted.scope
        and series.dimension = counted.dimension
        and series.category is not distinct from counted.category

),

windowed as (

    select
        *,
        sum(incident_count) over (
            partition by scope, dimension, category order by month_start
            range between interval 11 month preceding and current row
        ) as incident_count_12_months
    from dense

),

final as (

    select
        strftime(month_start, '%Y-%m') || ':' || scope || ':' || dimension || ':'
            || coalesce(category, '') as breakdown_key,
        month_start,
        scope,
        case when scope <> 'all' then scope end as product_code,
        dimension,
        category,
        incident_count,
        cast(incident_count_12_months as bigint) as incident_count_12_months
    from windowed
    where incident_count > 0 or incident_count_12_months > 0

)

select * from final
