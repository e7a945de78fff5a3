with

source as (

    select * from {{ source('slack', 'users') }}
    where not is_deleted

),

renamed as (

    select
        ---------- ids
        source.source_id as user_id,
        json_extract_string(payload, '$.team_id') as team_id,

        ---------- strings
        lower(nullif(trim(coalesce(json_extract_string(payload, '$.profile.email'), source.source_key)), ''))
            as email,
        json_extract_string(payload, '$.name') as user_name,
        coalesce(json_extract_string(payload, '$.real_name'), json_extract_string(payload, '$.profile.real_name'))
            as real_name,
        nullif(json_extract_string(payload, '$.profile.display_name'), '') as display_name,
        -- the profile's own full name: dim_people also matches people by it (people.match_by)
        nullif(json_extract_string(payload, '$.profile.real_name'), '') as profile_real_name,
        json_extract_string(payload, '$.tz') as time_zone,

        ---------- booleans
        -- `deleted` is Slack's deactivation flag (the person left), not a landing deletion
        coalesce(try_cast(json_extract_string(payload, '$.deleted') as boolean), false) as is_deactivated,
        coalesce(try_cast(json_extract_string(payload, '$.is_bot') as boolean), false)
            or source.source_id = 'USLACKBOT'
            or json_extract_string(payload, '$.profile.bot_id') is not null as is_bot,

        ---------- timestamps
        source.extracted_at

    from source

)

select * from renamed
