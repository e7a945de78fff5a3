-- One row: each logical Jira field's id on this site, as columns (pivoted for cheap joins).
with

source as (

    select * from {{ source('jira', 'field_map') }}

),

pivoted as (

    select
        max(field_id) filter (where logical_name = 'severity') as severity,
        max(field_id) filter (where logical_name = 'introduced_at') as introduced_at,
        max(field_id) filter (where logical_name = 'occurred_at') as occurred_at,
        max(field_id) filter (where logical_name = 'detected_at') as detected_at,
        max(field_id) filter (where logical_name = 'acknowledged_at') as acknowledged_at,
        max(field_id) filter (where logical_name = 'mitigated_at') as mitigated_at,
        max(field_id) filter (where logical_name = 'recovered_at') as recovered_at,
        max(field_id) filter (where logical_name = 'product') as product,
        max(field_id) filter (where logical_name = 'detection_route') as detection_route,
        max(field_id) filter (where logical_name = 'cause_category') as cause_category,
        max(field_id) filter (where logical_name = 'development_category') as development_category
    from source

)

select * from pivoted
