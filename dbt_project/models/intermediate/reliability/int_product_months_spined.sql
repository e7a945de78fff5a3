-- Every product (the unknown member included) x every calendar month in the reporting time zone,
-- from the first month with an incident or a release to the month of the as-of date, with the
-- month's bounds as instants. The skeleton of the monthly report and the monthly SLO windows.
-- A table, not a view (the intermediate default): read by several marts and their tests, each of
-- which would recompute it (DECISIONLOG.md "Incremental facts").
{{ config(materialized='table') }}
with

products as (

    select * from {{ ref('dim_products') }}

),

incidents as (

    select occurred_at from {{ ref('stg_jira__incidents') }}

),

releases as (

    select released_at from {{ ref('int_releases_joined') }}

),

bounds as (

    select
        least(
            coalesce((select min({{ local_month('occurred_at') }}) from incidents), date_trunc('month', {{ as_of_date() }})),
            coalesce((select min({{ local_month('released_at') }}) from releases), date_trunc('month', {{ as_of_date() }}))
        ) as first_month,
        cast(date_trunc('month', {{ as_of_date() }}) as date) as last_month

),

months as (

    select cast(month_start as date) as month_start
    from bounds,
        generate_series(cast(bounds.first_month as date), bounds.last_month, interval 1 month) as series(month_start)

),

spined as (

    select
        products.product_code || ':' || strftime(months.month_start, '%Y-%m') as product_month_key,
        products.product_code,
        months.month_start,
        cast(months.month_start + interval 1 month - interval 1 day as date) as month_end,
        {{ local_midnight('months.month_start') }} as month_start_at,
        {{ local_midnight('months.month_start + interval 1 month') }} as month_end_at,
        months.month_start + interval 1 month <= {{ as_of_date() }} as is_month_closed
    from products
    cross join months

)

select * from spined
