-- Every spelling a source may use for a product (code, English and Japanese name, Jira project
-- key, Slack channel), lower-cased, mapped to the product code. Sources join on lower(trim(label)).
with

products as (

    select * from {{ ref('products') }}

),

aliases as (

    select product_code, lower(trim(product_code)) as product_alias from products
    union all
    select product_code, lower(trim(product_name)) from products
    union all
    select product_code, lower(trim(product_name_ja)) from products
    union all
    select product_code, lower(trim(jira_project_key)) from products
    union all
    select product_code, lower(trim(slack_channel)) from products

),

deduplicated as (

    select distinct
        product_alias,
        product_code
    from aliases
    where product_alias is not null and product_alias <> ''

)

select * from deduplicated
