-- The products of config products.catalogue, in the configured order, as the reference table seeds.products.
{{ config(materialized='table', schema='seeds', alias='products') }}

with

catalogue as (

    {{ config_rows('products_catalogue', [
        ['code', 'varchar'], ['name', 'varchar'], ['name_ja', 'varchar'], ['jira_project_key', 'varchar'],
        ['owning_team', 'varchar'], ['owning_team_ja', 'varchar'], ['slack_channel', 'varchar']]) }}

),

final as (

    select
        code as product_code,
        name as product_name,
        name_ja as product_name_ja,
        jira_project_key,
        owning_team,
        owning_team_ja,
        slack_channel,
        position as sort_order
    from catalogue

)

select * from final
