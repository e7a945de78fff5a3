with

source as (

    select * from {{ source('notion', 'risk_records') }}
    where not is_deleted

),

property_map as (

    select * from {{ ref('stg_notion__property_map') }}
    where stream = 'risk_records'

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

),

renamed as (

    select
        ---------- ids
        source_id as risk_record_id,
        source_key as data_source_id,
        {{ notion_people_ids('assignee_property') }} as assignee_user_ids,
        page.created_by.id as created_by_user_id,

        ---------- strings
        {{ notion_text('title_property') }} as title,
        {{ notion_text('status_property') }} as status,
        {{ notion_text('priority_property') }} as priority,
        {{ notion_text('product_property') }} as product_name,
        {{ notion_text('dashboard_url_property') }} as dashboard_url,
        {{ notion_text('backlog_ticket_property') }} as backlog_ticket,
        {{ notion_text('related_issues_property') }} as related_issues_text,
        page.url as page_url,

        ---------- timestamps
        {{ notion_datetime('recognized_at_property') }} as recognized_at,
        {{ notion_datetime('last_reviewed_at_property') }} as last_reviewed_at,
        try_cast(page.created_time as timestamptz) as created_at,
        try_cast(page.last_edited_time as timestamptz) as last_edited_at,
        extracted_at

    from properties

)

select * from renamed
