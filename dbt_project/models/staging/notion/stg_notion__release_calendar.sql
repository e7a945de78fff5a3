with

source as (

    select * from {{ source('notion', 'release_calendar') }}
    where not is_deleted

),

property_map as (

    select * from {{ ref('stg_notion__property_map') }}
    where stream = 'release_calendar'

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
        {{ notion_property('product') }} as product_property,
        {{ notion_property('release_at') }} as release_at_property,
        {{ notion_property('release_type') }} as release_type_property,
        {{ notion_property('jira_version') }} as jira_version_property,
        {{ notion_property('status') }} as status_property
    from parsed
    cross join property_map as pm

),

renamed as (

    select
        ---------- ids
        source_id as calendar_page_id,
        source_key as data_source_id,

        ---------- strings
        {{ notion_text('title_property') }} as title,
        {{ notion_text('product_property') }} as product_name,
        {{ notion_text('release_type_property') }} as release_type,
        nullif(trim({{ notion_text('jira_version_property') }}), '') as jira_version_name,
        {{ notion_text('status_property') }} as status,

        ---------- timestamps
        {{ notion_datetime('release_at_property') }} as release_at,
        try_cast(page.created_time as timestamptz) as created_at,
        try_cast(page.last_edited_time as timestamptz) as last_edited_at,
        extracted_at

    from properties

)

select * from renamed
