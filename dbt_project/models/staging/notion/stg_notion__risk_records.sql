with

source as (

    select * from {{ source('notion', 'risk_records') }}
    where not is_deleted

),

property_map as (

    select * from {{ ref('stg_notion__property_map') }}
    where stream = 'risk_records'

),

titles as (

    select map(list(page_id), list(title)) as page_titles
    from {{ source('notion', 'page_titles') }}

),

parsed as (

    select
        source.*,
        {{ notion_page() }} as page
    from source

),

properties as (

    select
        parsed.*,
        pm,  -- the property map and the related pages' titles as struct columns, read by the macros
        titles,
        {{ notion_property('title') }} as title_property,
        {{ notion_property('status') }} as status_property,
        {{ notion_property('priority') }} as priority_property,
        {{ notion_property('assignee') }} as assignee_property,
        {{ notion_property('product') }} as product_property,
        {{ notion_property('recognized_at') }} as recognized_at_property,
        {{ notion_property('last_reviewed_at') }} as last_reviewed_at_property,
        {{ notion_property('dashboard_url') }} as dashboard_url_property,
        {{ notion_property('backlog_ticket') }} as backlog_ticket_property,
        {{ notion_property('related_issues') }} as related_issues_property
    from parsed
    cross join property_map as pm
    cross join titles

),

renamed as (

    select
        ---------- ids
        source_id as risk_record_id,
        source_key as data_source_id,
        {{ notion_person_ids('assignee', 'assignee_property') }} as assignee_user_ids,
        page.created_by.id as created_by_user_id,

        ---------- strings
        {{ notion_pick('title', 'title_property') }} as title,
        {{ notion_pick('status', 'status_property') }} as status,
        {{ notion_pick('priority', 'priority_property') }} as priority,
        {{ notion_pick('product', 'product_property') }} as product_name,
        {{ notion_pick('dashboard_url', 'dashboard_url_property') }} as dashboard_url,
        {{ notion_joined('backlog_ticket', 'backlog_ticket_property') }} as backlog_ticket,
        {{ notion_joined('related_issues', 'related_issues_property') }} as related_issues_text,
        page.url as page_url,

        ---------- lists
        {{ notion_multi_valued([('status', 'status_property'), ('priority', 'priority_property'),
                                ('product', 'product_property')]) }} as multi_valued_fields,

        ---------- timestamps
        {{ notion_timestamp('recognized_at', 'recognized_at_property') }} as recognized_at,
        {{ notion_timestamp('last_reviewed_at', 'last_reviewed_at_property') }} as last_reviewed_at,
        try_cast(page.created_time as timestamptz) as created_at,
        try_cast(page.last_edited_time as timestamptz) as last_edited_at,
        extracted_at

    from properties

)

select * from renamed
