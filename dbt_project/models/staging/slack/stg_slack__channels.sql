with

source as (

    select * from {{ source('slack', 'channels') }}
    where not is_deleted

),

renamed as (

    select
        ---------- ids
        source.source_id as channel_id,
        -- incident channels are named by the configured pattern; the key is <prefix>-<number>
        case
            when {{ regex_group("coalesce(json_extract_string(payload, '$.name'), source.source_key)",
                                'slack_incident_channel_pattern', 'number') }} is not null
                then '{{ var("slack_incident_key_prefix") }}-'
                    || {{ regex_group("coalesce(json_extract_string(payload, '$.name'), source.source_key)",
                                      'slack_incident_channel_pattern', 'number') }}
        end as incident_key,

        ---------- strings
        coalesce(json_extract_string(payload, '$.name'), source.source_key) as channel_name,
        json_extract_string(payload, '$.topic.value') as topic,
        json_extract_string(payload, '$.purpose.value') as purpose,

        ---------- booleans
        coalesce(try_cast(json_extract_string(payload, '$.is_private') as boolean), false) as is_private,
        coalesce(try_cast(json_extract_string(payload, '$.is_archived') as boolean), false) as is_archived,
        coalesce(json_extract_string(payload, '$.name'), source.source_key) = '{{ var("slack_release_channel") }}'
            as is_release_channel,

        ---------- timestamps
        to_timestamp(try_cast(json_extract_string(payload, '$.created') as double)) as created_at,
        source.extracted_at

    from source

)

select * from renamed
