-- One row per risk assignee (plus an `unassigned` row): open risks by priority and the share of
-- all open risk assignments they carry. A risk with two assignees counts once for each, so the
-- shares add up to 1 across rows; load_vs_mean > 2 means twice the average load (skew).
with

risks as (

    select * from {{ ref('fct_risk_records') }}

),

people as (

    select * from {{ ref('dim_people') }}

),

assignments as (

    select
        risks.*,
        coalesce(assignee.person_id, 'unassigned') as assignee_key,
        assignee.person_id
    from risks
    left join lateral (select unnest(risks.assignee_person_ids) as person_id) as assignee
        on true

),

per_assignee as (

    select
        assignee_key,
        any_value(person_id) as person_id,
        count(*) filter (where is_open) as open_risk_count,
        count(*) filter (where is_open and priority = 'High') as open_high_count,
        count(*) filter (where is_open and priority = 'Medium') as open_medium_count,
        count(*) filter (where is_open and priority = 'Low') as open_low_count,
        count(*) filter (where is_open and coalesce(priority, '') not in ('High', 'Medium', 'Low'))
            as open_other_priority_count,
        count(*) filter (where is_open and is_stale) as open_stale_count,
        count(*) filter (where not is_open) as closed_risk_count,
        max(age_days) filter (where is_open) as oldest_open_risk_age_days,
        median(days_since_last_review) filter (where is_open) as median_days_since_last_review
    from assignments
    group by assignee_key

),

shares as (

    select
        *,
        open_risk_count / nullif(sum(open_risk_count) over (), 0) as share_of_open_risks,
        open_risk_count / nullif(avg(open_risk_count) filter (where assignee_key <> 'unassigned') over (), 0)
            as load_vs_mean,
        rank() over (order by open_risk_count desc) as load_rank
    from per_assignee

),

final as (

    select
        shares.assignee_key,
        shares.person_id,
        coalesce(people.display_name, 'Unassigned') as display_name,
        people.email,
        people.slack_user_id,
        coalesce(people.has_left, false) as has_left,
        shares.open_risk_count,
        shares.open_high_count,
        shares.open_medium_count,
        shares.open_low_count,
        shares.open_other_priority_count,
        shares.open_stale_count,
        shares.closed_risk_count,
        shares.share_of_open_risks,
        case when shares.assignee_key <> 'unassigned' then shares.load_vs_mean end as load_vs_mean,
        cast(shares.load_rank as integer) as load_rank,
        shares.oldest_open_risk_age_days,
        shares.median_days_since_last_review,
        {{ as_of_date() }} as as_of_date
    from shares
    left join people
        on shares.person_id = people.person_id

)

select * from final
