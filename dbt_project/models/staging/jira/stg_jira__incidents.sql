-- Incremental, not a view (the staging default): each payload is parsed once, when it lands; at
-- 100x sandbox scale the issue payloads are what a rebuild costs (macros/incremental_landing.sql,
-- DECISIONLOG.md "Scale").
{{ config(
    materialized='incremental',
    unique_key='incident_id',
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
    post_hook=["{{ delete_vanished('incident_id', source('jira', 'incidents')) }}"]
) }}

with

field_map as (

    select
        field_map_row.*,
        md5(to_json(field_map_row)::varchar) as mapping_hash
    from {{ ref('stg_jira__field_map') }} as field_map_row

),

source as (

    select * from {{ source('jira', 'incidents') }}
    where not is_deleted
    {{ landed_since_last_build('select mapping_hash from field_map') }}

),

parsed as (

    select
        source.*,
        {{ jira_fields() }} as fields
    from source

),

renamed as (

    select
        ---------- ids
        parsed.source_id as incident_id,
        parsed.source_key as incident_key,
        {{ jira_system('project', '$.key') }} as project_key,
        {{ jira_system('assignee', '$.accountId') }} as assignee_account_id,
        {{ jira_system('reporter', '$.accountId') }} as reporter_account_id,

        ---------- strings
        {{ jira_system('summary') }} as summary,
        {{ jira_system('issuetype', '$.name') }} as issue_type,
        {{ jira_system('status', '$.name') }} as status_name,
        {{ jira_system('status', '$.statusCategory.key') }} as status_category,
        {{ jira_system('priority', '$.name') }} as priority_name,
        {{ jira_system('resolution', '$.name') }} as resolution_name,
        {{ jira_field_option('severity') }} as severity,
        {{ jira_field_option('product') }} as product_name,
        {{ jira_field_option('detection_route') }} as detection_route,
        {{ jira_field_option('cause_category') }} as cause_category,
        {{ jira_field_option('development_category') }} as development_category,
        coalesce(from_json(fields['labels'], '["VARCHAR"]'), []) as labels,
        -- the logical fields that held several values (the staging contract of issue 15; the
        -- type-aware field readers fill it, empty until they do)
        cast([] as varchar[]) as multi_valued_fields,

        ---------- timestamps
        {{ jira_field_timestamp('introduced_at') }} as introduced_at,
        {{ jira_field_timestamp('occurred_at') }} as occurred_at,
        {{ jira_field_timestamp('detected_at') }} as detected_at,
        {{ jira_field_timestamp('acknowledged_at') }} as acknowledged_at,
        {{ jira_field_timestamp('mitigated_at') }} as mitigated_at,
        {{ jira_field_timestamp('recovered_at') }} as recovered_at,
        try_cast({{ jira_system('resolutiondate') }} as timestamptz) as resolved_at,
        try_cast({{ jira_system('created') }} as timestamptz) as created_at,
        try_cast({{ jira_system('updated') }} as timestamptz) as updated_at,
        parsed.first_extracted_at,
        parsed.extracted_at,
        fm.mapping_hash

    from parsed
    cross join field_map as fm

)

select * from renamed
