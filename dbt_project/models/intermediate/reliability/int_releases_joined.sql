-- One row per release: Jira versions of the release projects joined to the Notion release
-- calendar on (product, version name). Notion gives the exact time and the type; Jira the id and
-- the released flag. A calendar entry with no Jira version still counts as a release.
-- The release type and what "shipped" means come from the configuration (taxonomies.release_types,
-- releases.shipped_by / shipped_statuses; DECISIONLOG "Release types" and "Shipped").
-- A table, not a view (the intermediate default): read by several marts and their tests, each of
-- which would recompute it (DECISIONLOG.md "Incremental facts").
{{ config(materialized='table') }}
{%- set shipped_by = var('releases_shipped_by') %}
with

versions as (

    select * from {{ ref('stg_jira__versions') }}

),

calendar as (

    select * from {{ ref('stg_notion__release_calendar') }}

),

product_aliases as (

    select * from {{ ref('int_product_aliases_unioned') }}

),

release_types as (

    select * from {{ ref('int_release_types_configured') }}

),

versions_mapped as (

    select
        versions.*,
        product_aliases.product_code
    from versions
    left join product_aliases
        on lower(trim(versions.project_key)) = product_aliases.product_alias

),

calendar_mapped as (

    select
        calendar.*,
        product_aliases.product_code
    from calendar
    left join product_aliases
        on lower(trim(calendar.product_name)) = product_aliases.product_alias
    -- one calendar entry per product and version: the most recently edited wins
    qualify row_number() over (
        partition by product_aliases.product_code, coalesce(calendar.jira_version_name, calendar.calendar_page_id)
        order by calendar.last_edited_at desc, calendar.calendar_page_id
    ) = 1

),

calendar_typed as (

    -- the calendar's type value mapped to its configured code; a value in no type stays as written
    -- (reported by rpt_classification_issues and a warning test on fct_releases, never dropped)
    select
        calendar_mapped.*,
        coalesce(release_types.release_type, nullif(trim(calendar_mapped.release_type), '')) as release_type_code
    from calendar_mapped
    left join release_types
        on list_contains(release_types.source_values, lower(trim(calendar_mapped.release_type)))
    qualify row_number() over (
        partition by calendar_mapped.calendar_page_id order by release_types.sort_order
    ) = 1

),

versions_typed as (

    -- a version without a calendar type: the first configured type whose version_pattern matches
    select
        versions_mapped.*,
        release_types.release_type as version_release_type
    from versions_mapped
    left join release_types
        on regexp_matches(versions_mapped.version_name, release_types.version_pattern)
    qualify row_number() over (
        partition by versions_mapped.version_id order by release_types.sort_order
    ) = 1

),

joined as (

    select
        coalesce(versions_mapped.version_id, 'notion:' || calendar_mapped.calendar_page_id) as release_id,
        versions_mapped.version_id,
        calendar_mapped.calendar_page_id,
        coalesce(versions_mapped.product_code, calendar_mapped.product_code, 'unknown') as product_code,
        coalesce(versions_mapped.version_name, calendar_mapped.jira_version_name) as version_name,
        calendar_mapped.title as calendar_title,
        coalesce(calendar_mapped.release_type_code, versions_mapped.version_release_type) as release_type,
        calendar_mapped.status as calendar_status,
        versions_mapped.is_released as is_released_in_jira,
        versions_mapped.is_archived as is_archived_in_jira,
        coalesce(
            calendar_mapped.release_at,
            {{ local_midnight('versions_mapped.release_date') }}
        ) as released_at,
        calendar_mapped.release_at is not null as has_exact_time
    from versions_typed as versions_mapped
    full outer join calendar_typed as calendar_mapped
        on versions_mapped.product_code = calendar_mapped.product_code
        and versions_mapped.version_name = calendar_mapped.jira_version_name

),

shipped as (

    select
        *,
        -- its time has passed by the as-of date, and any configured signal says it shipped (without
        -- date_passed, a date that passed with no signal is a slipped release, not a shipped one)
        released_at is not null
        and released_at < {{ as_of_end_at() }}
        and (
            false
            {%- if 'jira_released' in shipped_by %}
            or coalesce(is_released_in_jira, false)
            {%- endif %}
            {%- if 'calendar_status' in shipped_by %}
            or coalesce(list_contains(
                list_transform({{ sql_string_array(var('releases_shipped_statuses')) }}, lambda status: lower(trim(status))),
                lower(trim(calendar_status))
            ), false)
            {%- endif %}
            {%- if 'date_passed' in shipped_by %}
            or true
            {%- endif %}
        ) as is_shipped
    from joined

)

select * from shipped
