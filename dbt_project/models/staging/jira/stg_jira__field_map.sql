-- One row: each logical Jira field's id on this site and how it is read, as columns (pivoted for
-- cheap joins): `<logical>` the field id, `<logical>_reader` how its JSON is read (by the field's
-- type, shinrai.extract.jira), `<logical>_part` (cascading select: parent or child) and
-- `<logical>_pick` (first or last of several values). A logical field left out of the config has
-- null columns, so its staging column is null.
{%- set timestamps = ['introduced_at', 'occurred_at', 'detected_at', 'acknowledged_at', 'mitigated_at',
                      'recovered_at'] %}
{%- set categories = ['severity', 'product', 'detection_route', 'cause_category', 'development_category'] %}
with

source as (

    select * from {{ source('jira', 'field_map') }}

),

pivoted as (

    select
        {%- for logical in ['severity'] + timestamps + categories[1:] %}
        max(field_id) filter (where logical_name = '{{ logical }}') as {{ logical }},
        -- a row landed before readers were recorded was read as today's defaults: option, datetime
        coalesce(
            max(reader) filter (where logical_name = '{{ logical }}'),
            case when max(field_id) filter (where logical_name = '{{ logical }}') is not null
                 then '{{ "datetime" if logical in timestamps else "option" }}' end
        ) as {{ logical }}_reader,
        coalesce(max(part) filter (where logical_name = '{{ logical }}'), 'parent') as {{ logical }}_part,
        coalesce(max(pick) filter (where logical_name = '{{ logical }}'), 'first') as {{ logical }}_pick
        {{- "," if not loop.last }}
        {%- endfor %}
    from source

)

select * from pivoted
