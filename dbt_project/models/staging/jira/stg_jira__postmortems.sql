-- Incremental, not a view: each payload is parsed once, when it lands (see stg_jira__incidents).
{{ config(
    materialized='incremental',
    unique_key='postmortem_id',
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
    post_hook=["{{ delete_vanished('postmortem_id', source('jira', 'postmortems')) }}"]
) }}

with

field_map as (

    select
        field_map_row.*,
        md5(to_json(field_map_row)::varchar || '{{ var("jira_postmortem_link_type") }}') as mapping_hash
    from {{ ref('stg_jira__field_map') }} as field_map_row

),

source as (

    select * from {{ source('jira', 'postmortems') }}
    where not is_deleted
    {{ landed_since_last_build('select mapping_hash from field_map') }}

),

parsed as (

    select
        source.*,
        {{ jira_fields() }} as fields
    from source

),

linked as (

    select
        parsed.*,
        {{ jira_linked_issue_ids(var('jira_postmortem_link_type')) }} as linked_incident_ids,
        {{ jira_field_values('product') }} as product_values
    from parsed
    cross join field_map as fm

),

renamed as (

    select
        ---------- ids
        linked.source_id as postmortem_id,
        linked.source_key as postmortem_key,
        -- the incident is the other end of the configured postmortem link (the first, if several)
        linked_incident_ids[1] as incident_id,
        {{ jira_system('project', '$.key') }} as project_key,
        {{ jira_system('assignee', '$.accountId') }} as assignee_account_id,
        {{ jira_system('reporter', '$.accountId') }} as reporter_account_id,

        ---------- strings
        {{ jira_system('summary') }} as summary,
        {{ jira_system('status', '$.name') }} as status_name,
        {{ jira_system('status', '$.statusCategory.key') }} as status_category,
        {{ jira_system('resolution', '$.name') }} as resolution_name,
        {{ jira_field_pick('product', 'product_values') }} as product_name,
        {{ jira_multi_valued_fields(['product']) }} as multi_valued_fields,

        ---------- numerics
        len(linked_incident_ids) as linked_incident_count,

        ---------- timestamps
        try_cast({{ jira_system('resolutiondate') }} as timestamptz) as resolved_at,
        try_cast({{ jira_system('created') }} as timestamptz) as created_at,
        try_cast({{ jira_system('updated') }} as timestamptz) as updated_at,
        linked.extracted_at,
        fm.mapping_hash

    from linked
    cross join field_map as fm

)

select * from renamed
