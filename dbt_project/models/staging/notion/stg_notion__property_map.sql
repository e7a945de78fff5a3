-- One row per Notion stream: each logical property's name in that data source, and how it is read
-- (its type, the part of a date range, which of several values counts), as columns <logical>,
-- <logical>_type, <logical>_part, <logical>_pick (pivoted for cheap joins, like stg_jira__field_map).
-- A logical property left out of the configuration has no row: its columns are null, and so is
-- every staging column read from it.
with

source as (

    select * from {{ source('notion', 'property_map') }}

),

pivoted as (

    select
        stream,
        {%- for logical in ['title', 'status', 'priority', 'assignee', 'product', 'recognized_at',
                            'last_reviewed_at', 'dashboard_url', 'backlog_ticket', 'related_issues',
                            'release_at', 'release_type', 'jira_version'] %}
        max(property_name) filter (where logical_name = '{{ logical }}') as {{ logical }},
        max(property_type) filter (where logical_name = '{{ logical }}') as {{ logical }}_type,
        max(coalesce(part, 'start')) filter (where logical_name = '{{ logical }}') as {{ logical }}_part,
        max(coalesce(pick, 'first')) filter (where logical_name = '{{ logical }}') as {{ logical }}_pick
        {{- "," if not loop.last }}
        {%- endfor %}
    from source
    group by stream

)

select * from pivoted
