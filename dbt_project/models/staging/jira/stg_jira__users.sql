with

source as (

    select * from {{ source('jira', 'users') }}
    where not is_deleted

),

renamed as (

    select
        ---------- ids
        source.source_id as account_id,

        ---------- strings
        lower(nullif(trim(coalesce(json_extract_string(payload, '$.emailAddress'), source.source_key)), ''))
            as email,
        json_extract_string(payload, '$.displayName') as display_name,
        coalesce(json_extract_string(payload, '$.accountType'), 'atlassian') as account_type,

        ---------- booleans
        coalesce(try_cast(json_extract_string(payload, '$.active') as boolean), true) as is_active,

        ---------- timestamps
        source.extracted_at

    from source

)

select * from renamed
