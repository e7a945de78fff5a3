-- Incidents with their product mapped to the configured products and every classification mapped
-- through the configured taxonomies (severity levels, detection routes, cause and development
-- categories): a source value (trimmed, case-insensitive) that an entry claims becomes the entry's
-- code; a value no entry claims is kept as entered and flagged invalid (rpt_classification_issues).
-- The product label is jira.fields.product or the Jira project key (var products_incidents_from).
-- A table, not a view (the intermediate default): read by several marts and their tests, each of
-- which would recompute it (DECISIONLOG.md "Incremental facts").
{{ config(materialized='table') }}
with

incidents as (

    select * from {{ ref('stg_jira__incidents') }}

),

product_aliases as (

    select * from {{ ref('int_product_aliases_unioned') }}

),

taxonomy_values as (

    select * from {{ ref('stg_config__taxonomy_values') }}

),

severity_levels as (

    select * from {{ ref('stg_config__severities') }}

),

detection_routes as (

    select * from {{ ref('stg_config__detection_routes') }}

),

development_categories as (

    select * from {{ ref('stg_config__development_categories') }}

),

labelled as (

    select
        * exclude (product_name),
        {% if var('products_incidents_from') == 'project' -%}
        project_key as product_name
        {%- elif var('products_incidents_from') == 'field' -%}
        product_name
        {%- else -%}
        {{ exceptions.raise_compiler_error("var products_incidents_from must be field or project, got "
                                           ~ var('products_incidents_from')) }}
        {%- endif %}
    from incidents

),

mapped as (

    select
        labelled.* exclude (severity, detection_route, cause_category, development_category),
        coalesce(severity_value.code, labelled.severity) as severity,
        coalesce(route_value.code, labelled.detection_route) as detection_route,
        coalesce(cause_value.code, labelled.cause_category) as cause_category,
        coalesce(development_value.code, labelled.development_category) as development_category,
        severity_value.code is not null as is_severity_valid,
        route_value.code is not null as is_detection_route_valid,
        cause_value.code is not null as is_cause_category_valid,
        development_value.code is not null as is_development_category_valid
    from labelled
    left join taxonomy_values as severity_value
        on severity_value.taxonomy = 'severity'
        and lower(trim(labelled.severity)) = severity_value.source_value
    left join taxonomy_values as route_value
        on route_value.taxonomy = 'detection_route'
        and lower(trim(labelled.detection_route)) = route_value.source_value
    left join taxonomy_values as cause_value
        on cause_value.taxonomy = 'cause_category'
        and lower(trim(labelled.cause_category)) = cause_value.source_value
    left join taxonomy_values as development_value
        on development_value.taxonomy = 'development_category'
        and lower(trim(labelled.development_category)) = development_value.source_value

),

classified as (

    select
        mapped.*,
        coalesce(product_aliases.product_code, 'unknown') as product_code,
        severity_levels.severity_rank,
        severity_levels.availability_impact_weight as severity_weight,
        coalesce(severity_levels.postmortem_required, false) as severity_requires_postmortem,
        coalesce(development_categories.is_release, false) as is_release_category
    from mapped
    left join product_aliases
        on lower(trim(mapped.product_name)) = product_aliases.product_alias
    left join severity_levels
        on mapped.is_severity_valid and mapped.severity = severity_levels.severity
    left join detection_routes
        on mapped.is_detection_route_valid and mapped.detection_route = detection_routes.detection_route
    left join development_categories
        on mapped.is_development_category_valid
        and mapped.development_category = development_categories.development_category

)

select * from classified
