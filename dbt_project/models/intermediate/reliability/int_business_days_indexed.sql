-- The business calendar with a running business-day index, so "N business days before/after"
-- is integer arithmetic: a date's index counts the business days on or before it.
with

calendar as (

    select * from {{ ref('business_calendar') }}

),

indexed as (

    select
        calendar_date,
        is_business_day,
        holiday_name,
        holiday_name_ja,
        cast(sum(case when is_business_day then 1 else 0 end) over (
            order by calendar_date rows between unbounded preceding and current row
        ) as integer) as business_day_index
    from calendar

)

select * from indexed
