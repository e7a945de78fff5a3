-- The objectives of each product of config products.catalogue (products[].objectives), as the
-- reference table seeds.objectives; a product without objectives has no row.
{{ config(materialized='table', schema='seeds', alias='objectives') }}

with

catalogue as (

    {{ config_rows('products_catalogue', [
        ['code', 'varchar'], ['has_objectives', 'boolean'], ['availability_target', 'double'],
        ['mttr_target_minutes', 'double'], ['postmortem_within_days', 'integer'],
        ['postmortem_on_time_target', 'double'], ['action_on_time_target', 'double']]) }}

),

final as (

    select
        code as product_code,
        availability_target,
        mttr_target_minutes,
        postmortem_within_days,
        postmortem_on_time_target,
        action_on_time_target
    from catalogue
    where has_objectives

)

select * from final
