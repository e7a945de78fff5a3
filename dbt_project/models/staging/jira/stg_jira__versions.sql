with

source as (

    select * from {{ source('jira', 'versions') }}
    where not is_deleted

),

renamed as (

    select
        ---------- ids
        source.source_id as version_id,
        source.source_key as project_key,
        json_extract_string(payload, '$.projectId') as project_id,

        ---------- strings
        json_extract_string(payload, '$.name') as version_name,
        json_extract_string(payload, '$.description') as description,

        ---------- booleans
        coalesce(try_cast(json_extract_string(payload, '$.released') as boolean), false) as is_released,
        coalesce(try_cast(json_extract_string(payload, '$.archived') as boolean), false) as is_archived,

        ---------- dates
        try_cast(json_extract_string(payload, '$.releaseDate') as date) as release_date,

        ---------- timestamps
        source.extracted_at

    from source

)

select * from renamed
