-- The cause categories of config taxonomies.cause_categories, as the reference table seeds.cause_categories.
{{ config(materialized='table', schema='seeds', alias='cause_categories') }}

with

categories as (

    {{ config_rows('taxonomy_cause_categories', [
        ['code', 'varchar'], ['name_ja', 'varchar'], ['definition_en', 'varchar'], ['definition_ja', 'varchar']]) }}

),

final as (

    select
        code as cause_category,
        position as sort_order,
        name_ja,
        definition_en,
        definition_ja
    from categories

)

select * from final
