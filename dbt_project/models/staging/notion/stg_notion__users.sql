with

source as (

    select * from {{ source('notion', 'users') }}
    where not is_deleted

),

renamed as (

    select
        ---------- ids
        source.source_id as user_id,

        ---------- strings
        lower(nullif(trim(coalesce(json_extract_string(payload, '$.person.email'), source.source_key)), ''))
            as email,
        json_extract_string(payload, '$.name') as display_name,
        json_extract_string(payload, '$.type') as user_type,

        ---------- booleans
        coalesce(json_extract_string(payload, '$.type') = 'bot', false) as is_bot,

        ---------- timestamps
        source.extracted_at

    from source

)

select * from renamed
