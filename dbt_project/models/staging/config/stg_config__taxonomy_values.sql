-- Every source value a taxonomy entry or a product claims, trimmed and lower-cased, mapped to the
-- entry's code: what makes `Level 1`, `P1` and `致命的` one configured level. Sources join on
-- lower(trim(value)). A value appears once per taxonomy (config.py refuses a value claimed twice).
-- Products: code, name, name_ja, Jira project key, Slack channel and aliases.
{%- set claims = [] -%}
{%- for taxonomy, var_name in [
        ('severity', 'taxonomy_severities'),
        ('detection_route', 'taxonomy_detection_routes'),
        ('cause_category', 'taxonomy_cause_categories'),
        ('development_category', 'taxonomy_development_categories')] -%}
    {%- for entry in var(var_name) -%}
        {%- for value in (entry.get('source_values') or [entry['code']]) -%}
            {%- do claims.append([taxonomy, value, entry['code']]) -%}
        {%- endfor -%}
    {%- endfor -%}
{%- endfor -%}
{%- for product in var('products_catalogue') -%}
    {%- for value in [product.get('code'), product.get('name'), product.get('name_ja'), product.get('jira_project_key'),
                      product.get('slack_channel')] + (product.get('aliases') or []) -%}
        {%- if value is not none -%}{%- do claims.append(['product', value, product['code']]) -%}{%- endif -%}
    {%- endfor -%}
{%- endfor %}

with

claims as (

    {% if claims | length == 0 -%}
    select cast(null as varchar) as taxonomy, cast(null as varchar) as source_value, cast(null as varchar) as code
    where false
    {%- else -%}
    select * from (values
        {% for claim in claims -%}
        ({{ config_literal(claim[0]) }}, {{ config_literal(claim[1]) }}, {{ config_literal(claim[2]) }}){{ "," if not loop.last }}
        {% endfor -%}
    ) as claim (taxonomy, source_value, code)
    {%- endif %}

),

final as (

    select distinct
        taxonomy,
        lower(trim(source_value)) as source_value,
        code,
        taxonomy || ':' || lower(trim(source_value)) as taxonomy_value_key
    from claims
    where trim(source_value) <> ''

)

select * from final
