-- Every spelling a source may use for a product (code, English and Japanese name, Jira project
-- key, Slack channel, configured aliases), lower-cased, mapped to the product code. Sources join on
-- lower(trim(label)). The spellings come from config products.catalogue (stg_config__taxonomy_values).
with

taxonomy_values as (

    select * from {{ ref('stg_config__taxonomy_values') }}

),

aliases as (

    select distinct
        source_value as product_alias,
        code as product_code
    from taxonomy_values
    where taxonomy = 'product'

)

select * from aliases
