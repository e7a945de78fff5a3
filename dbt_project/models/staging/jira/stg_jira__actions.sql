-- Incremental, not a view: each payload is parsed once, when it lands (see stg_jira__incidents).
{%- set mapping_hash = local_md5(var('jira_actions_relation_mode') ~ '|' ~ var('jira_actions_link_type')) %}
{{ config(
    materialized='incremental',
    unique_key='action_id',
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
    post_hook=["{{ delete_vanished('action_id', source('jira', 'actions')) }}"]
) }}

with

field_map as (

    -- for the product field (config products.actions_from: field)
    select
        field_map_row.*,
        '{{ mapping_hash }}' || md5(to_json(field_map_row)::varchar) as mapping_hash
    from {{ ref('stg_jira__field_map') }} as field_map_row

),

source as (

    select * from {{ source('jira', 'actions') }}
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
        source_id as action_id,
        source_key as action_key,
        -- the postmortem: the other end of the configured link, or the parent in subtask mode
        {% if var('jira_actions_relation_mode') == 'subtask' -%}
        {{ jira_system('parent', '$.id') }} as postmortem_id,
        {%- else -%}
        {{ jira_linked_issue_ids(var('jira_actions_link_type')) }}[1] as postmortem_id,
        {%- endif %}
        {{ jira_system('project', '$.key') }} as project_key,
        {{ jira_system('assignee', '$.accountId') }} as assignee_account_id,
        {{ jira_system('reporter', '$.accountId') }} as reporter_account_id,

        ---------- strings
        {{ jira_system('summary') }} as summary,
        {{ jira_system('status', '$.name') }} as status_name,
        {{ jira_system('status', '$.statusCategory.key') }} as status_category,
        {{ jira_system('resolution', '$.name') }} as resolution_name,
        {{ jira_system('priority', '$.name') }} as priority_name,
        {{ jira_field_option('product') }} as product_name,
        -- the logical fields that held several values (the staging contract of issue 15; the
        -- type-aware field readers fill it, empty until they do)
        cast([] as varchar[]) as multi_valued_fields,

        ---------- dates
        try_cast({{ jira_system('duedate') }} as date) as due_date,

        ---------- timestamps
        try_cast({{ jira_system('resolutiondate') }} as timestamptz) as resolved_at,
        try_cast({{ jira_system('created') }} as timestamptz) as created_at,
        try_cast({{ jira_system('updated') }} as timestamptz) as updated_at,
        extracted_at,
        fm.mapping_hash

    from parsed
    cross join field_map as fm

)

select * from renamed
