-- The detection routes of config taxonomies.detection_routes, as the reference table seeds.detection_routes.
{{ config(materialized='table', schema='seeds', alias='detection_routes') }}

with

routes as (

    {{ config_rows('taxonomy_detection_routes', [
        ['code', 'varchar'], ['name_ja', 'varchar'], ['is_automated', 'boolean'],
        ['definition_en', 'varchar'], ['definition_ja', 'varchar']]) }}

),

final as (

    select
        code as detection_route,
        position as sort_order,
        name_ja,
        coalesce(is_automated, false) as is_automated,
        definition_en,
        definition_ja
    from routes

)

select * from final
