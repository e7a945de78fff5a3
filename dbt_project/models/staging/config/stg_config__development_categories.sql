-- The development categories of config taxonomies.development_categories, as the reference table
-- seeds.development_categories (is_release: "a release caused it", used by change attribution).
{{ config(materialized='table', schema='seeds', alias='development_categories') }}

with

categories as (

    {{ config_rows('taxonomy_development_categories', [
        ['code', 'varchar'], ['name_ja', 'varchar'], ['is_release', 'boolean'], ['is_change', 'boolean'],
        ['definition_en', 'varchar'], ['definition_ja', 'varchar']]) }}

),

final as (

    select
        code as development_category,
        position as sort_order,
        name_ja,
        coalesce(is_release, false) as is_release,
        coalesce(is_change, false) as is_change,
        definition_en,
        definition_ja
    from categories

)

select * from final
