-- One row per release: Jira versions of the release projects joined to the Notion release
-- calendar on (product, version name). Notion gives the exact time and the type; Jira the id and
-- the released flag. A calendar entry with no Jira version still counts as a release.
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

joined as (

    select
        coalesce(versions_mapped.version_id, 'notion:' || calendar_mapped.calendar_page_id) as release_id,
        versions_mapped.version_id,
        calendar_mapped.calendar_page_id,
        coalesce(versions_mapped.product_code, calendar_mapped.product_code, 'unknown') as product_code,
        coalesce(versions_mapped.version_name, calendar_mapped.jira_version_name) as version_name,
        calendar_mapped.title as calendar_title,
        coalesce(
            calendar_mapped.release_type,
            -- no calendar entry: x.y.0 is a regular release, any other patch a hotfix
            case when regexp_matches(versions_mapped.version_name, '\.0$') then 'Regular' else 'Hotfix' end
        ) as release_type,
        calendar_mapped.status as calendar_status,
        versions_mapped.is_released as is_released_in_jira,
        versions_mapped.is_archived as is_archived_in_jira,
        coalesce(
            calendar_mapped.release_at,
            {{ local_midnight('versions_mapped.release_date') }}
        ) as released_at,
        calendar_mapped.release_at is not null as has_exact_time
    from versions_mapped
    full outer join calendar_mapped
        on versions_mapped.product_code = calendar_mapped.product_code
        and versions_mapped.version_name = calendar_mapped.jira_version_name

),

shipped as (

    select
        *,
        -- shipped by the as-of date, and marked released: by Jira's flag when there is a version,
        -- else by the calendar status (a date that passed without release is a slipped release)
        released_at is not null
        and released_at < {{ as_of_end_at() }}
        and coalesce(is_released_in_jira, lower(calendar_status) in ('released', 'リリース済み'), false)
            as is_shipped
    from joined

)

select * from shipped
