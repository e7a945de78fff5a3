-- One row per changed field per history entry (Jira changelog item), oldest first per issue.
-- Incremental, not a view (the staging default): an issue's histories are parsed once, when they
-- land, into typed structs (one pass over the JSON). Keyed by issue: a changed issue's items are
-- replaced as a whole (see stg_jira__incidents).
{{ config(
    materialized='incremental',
    unique_key='issue_id',
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
    post_hook=["{{ delete_vanished('issue_id', source('jira', 'changelogs')) }}"]
) }}

with

source as (

    select * from {{ source('jira', 'changelogs') }}
    where not is_deleted
    {{ landed_since_last_build("select 'changelogs'") }}

),

parsed as (

    select
        source_id,
        source_key,
        extracted_at,
        from_json(payload, '{
            "stream": "VARCHAR",
            "histories": [{
                "id": "VARCHAR", "created": "VARCHAR", "author": {"accountId": "VARCHAR"},
                "items": [{"field": "VARCHAR", "fieldId": "VARCHAR", "fieldtype": "VARCHAR", "from": "VARCHAR",
                           "fromString": "VARCHAR", "to": "VARCHAR", "toString": "VARCHAR"}]
            }]
        }') as changelog
    from source

),

histories as (

    select
        source_id as issue_id,
        source_key as issue_key,
        extracted_at,
        changelog.stream as issue_stream,
        unnest(changelog.histories) as history
    from parsed

),

items as (

    select
        histories.*,
        unnest(history.items) as item,
        generate_subscripts(history.items, 1) - 1 as item_index
    from histories

),

renamed as (

    select
        ---------- ids
        history.id || ':' || item_index as changelog_item_id,
        history.id as history_id,
        issue_id,
        issue_key,
        history.author.accountId as author_account_id,

        ---------- strings
        issue_stream,
        item.field as field_name,
        item.fieldId as field_id,
        item.fieldtype as field_type,
        item."from" as from_value,
        item.fromString as from_string,
        item."to" as to_value,
        item.toString as to_string,

        ---------- numerics
        item_index,

        ---------- timestamps
        try_cast(history.created as timestamptz) as changed_at,
        extracted_at,
        'changelogs' as mapping_hash

    from items

)

select * from renamed
