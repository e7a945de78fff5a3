-- One row per release type of config taxonomies.release_types (dbt var release_types), in the
-- configured order: the calendar values that mean it (trimmed, lower-cased: they are compared
-- trimmed and case-insensitively) and the regex that classifies a Jira version without a calendar
-- entry (the first type whose pattern matches wins). No type is named here: the config is the home.
{%- set release_types = var('release_types') %}
{%- if release_types | length == 0 %}

select
    cast(null as varchar) as release_type,
    cast(null as integer) as sort_order,
    cast(null as varchar[]) as source_values,
    cast(null as varchar) as version_pattern
where false

{%- else %}

with

configured (release_type, sort_order, source_values, version_pattern) as (

    values
    {%- for release_type in release_types %}
        ({{ sql_string(release_type['code']) }}, {{ loop.index }},
         {{ sql_string_array(release_type['values']) }}, {{ sql_string(release_type['version_pattern']) }})
        {{- "," if not loop.last }}
    {%- endfor %}

)

select
    release_type,
    cast(sort_order as integer) as sort_order,
    list_transform(source_values, lambda value: lower(trim(value))) as source_values,
    version_pattern
from configured

{%- endif %}
