-- Incidents with their product mapped to the products seed and every classification checked
-- against the taxonomy seeds (severity levels, detection routes, cause and development categories).
with

incidents as (

    select * from {{ ref('stg_jira__incidents') }}

),

product_aliases as (

    select * from {{ ref('int_product_aliases_unioned') }}

),

severity_levels as (

    select * from {{ ref('severity_levels') }}

),

detection_routes as (

    select * from {{ ref('detection_routes') }}

),

cause_categories as (

    select * from {{ ref('cause_categories') }}

),

development_categories as (

    select * from {{ ref('development_categories') }}

),

classified as (

    select
        incidents.*,
        coalesce(product_aliases.product_code, 'unknown') as product_code,
        severity_levels.severity_rank,
        severity_levels.availability_impact_weight as severity_weight,
        coalesce(severity_levels.postmortem_required, false) as severity_requires_postmortem,
        severity_levels.severity is not null as is_severity_valid,
        detection_routes.detection_route is not null as is_detection_route_valid,
        cause_categories.cause_category is not null as is_cause_category_valid,
        development_categories.development_category is not null as is_development_category_valid,
        coalesce(development_categories.is_release, false) as is_release_category
    from incidents
    left join product_aliases
        on lower(trim(incidents.product_name)) = product_aliases.product_alias
    left join severity_levels
        on incidents.severity = severity_levels.severity
    left join detection_routes
        on incidents.detection_route = detection_routes.detection_route
    left join cause_categories
        on incidents.cause_category = cause_categories.cause_category
    left join development_categories
        on incidents.development_category = development_categories.development_category

)

select * from classified
