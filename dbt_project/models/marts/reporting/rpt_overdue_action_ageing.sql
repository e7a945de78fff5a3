-- Product x ageing bucket: open prevention actions past due on the as-of date, by days overdue
-- (calendar days since the due date). Every bucket of every product is a row, zero when empty, so
-- the report's ageing chart always shows the same buckets in the same order.
with

products as (

    select * from {{ ref('dim_products') }}

),

overdue as (

    select product_code, days_overdue from {{ ref('fct_prevention_actions') }}
    where is_overdue and days_overdue is not null

),

buckets as (

    select * from (values
        (1, 1, 7, '1-7'),
        (2, 8, 14, '8-14'),
        (3, 15, 30, '15-30'),
        (4, 31, 60, '31-60'),
        (5, 61, 90, '61-90'),
        (6, 91, 180, '91-180'),
        (7, 181, null, '181+')
    ) as buckets(bucket_order, min_days_overdue, max_days_overdue, bucket_label)

),

bucketed as (

    -- an action overdue by less than a day (cannot happen with date due dates) counts in the first bucket
    select
        overdue.product_code,
        buckets.bucket_order
    from overdue
    inner join buckets
        on greatest(overdue.days_overdue, 1) >= buckets.min_days_overdue
        and (buckets.max_days_overdue is null or greatest(overdue.days_overdue, 1) <= buckets.max_days_overdue)

),

final as (

    select
        products.product_code || ':' || buckets.bucket_order as ageing_key,
        products.product_code,
        buckets.bucket_order,
        buckets.bucket_label,
        cast(buckets.min_days_overdue as integer) as min_days_overdue,
        cast(buckets.max_days_overdue as integer) as max_days_overdue,
        (select count(*) from bucketed
         where bucketed.product_code = products.product_code
             and bucketed.bucket_order = buckets.bucket_order) as overdue_action_count,
        {{ as_of_date() }} as as_of_date
    from products
    cross join buckets

)

select * from final
