with

source as (

    select * from {{ source('notion', 'release_calendar') }}
    where not is_deleted

),

property_map as (

    select * from {{ ref('stg_notion__property_map') }}
    where stream = 'release_calendar'

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
        {{ notion_property('product') }} as product_property,
        {{ notion_property('release_at') }} as release_at_property,
        {{ notion_property('release_type') }} as release_type_property,
        {{ notion_property('jira_version') }} as jira_version_property,
        {{ notion_property('status') }} as status_property
    from parsed
    cross join property_map as pm
    cross join titles

),

renamed as (

    select
        ---------- ids
        source_id as calendar_page_id,
        source_key as data_source_id,

        ---------- strings
        {{ notion_pick('title', 'title_property') }} as title,
        {{ notion_pick('product', 'product_property') }} as product_name,
        {{ notion_pick('release_type', 'release_type_property') }} as release_type,
        nullif(trim({{ notion_pick('jira_version', 'jira_version_property') }}), '') as jira_version_name,
        {{ notion_pick('status', 'status_property') }} as status,

        ---------- lists
        {{ notion_multi_valued([('product', 'product_property'), ('release_type', 'release_type_property'),
                                ('status', 'status_property')]) }} as multi_valued_fields,

        ---------- timestamps
        {{ notion_timestamp('release_at', 'release_at_property') }} as release_at,
        try_cast(page.created_time as timestamptz) as created_at,
        try_cast(page.last_edited_time as timestamptz) as last_edited_at,
        extracted_at

    from properties

)

select * from renamed
