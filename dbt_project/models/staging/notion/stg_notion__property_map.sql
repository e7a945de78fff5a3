-- One row per Notion stream: each logical property's name in that data source, as columns
-- (pivoted for cheap joins, like stg_jira__field_map).
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
        max(property_name) filter (where logical_name = '{{ logical }}') as {{ logical }}{{ "," if not loop.last }}
        {%- endfor %}
    from source
    group by stream

)

select * from pivoted
