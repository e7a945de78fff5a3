{#-
  Read Jira fields out of a raw issue payload. The payload is parsed once (a few KB each, and
  parsing is what a rebuild costs at scale): `jira_fields()` turns `fields` into a MAP of field id ->
  JSON value, and every other macro reads one small value out of that map.
  Custom fields are read by their *logical* name (severity, occurred_at, ...): field ids differ per
  Jira site, so the extractor resolves the configured names through /rest/api/3/field and lands the
  result in raw.field_map; staging joins that one row in as `fm`.
-#}
{% macro jira_fields(payload='payload') -%}
    from_json({{ payload }}, '{"fields": "MAP(VARCHAR, JSON)"}').fields
{%- endmacro %}

{#- A system field (by id) as text; `path` reaches inside objects, e.g. jira_system('status', '$.name'). -#}
{% macro jira_system(field_id, path='$') -%}
    json_extract_string(fields['{{ field_id }}'], '{{ path }}')
{%- endmacro %}

{% macro jira_field_text(logical) -%}
    json_extract_string(fields[fm.{{ logical }}], '$')
{%- endmacro %}

{% macro jira_field_option(logical) -%}
    nullif(trim(json_extract_string(fields[fm.{{ logical }}], '$.value')), '')
{%- endmacro %}

{% macro jira_field_timestamp(logical) -%}
    try_cast(json_extract_string(fields[fm.{{ logical }}], '$') as timestamptz)
{%- endmacro %}

{#- Ids of the issues linked to this one by a link type (by name, either direction), as a sorted
    list. Jira shows each link from the current issue's side with only one of inwardIssue or
    outwardIssue, so the direction is not needed to find the other end. -#}
{% macro jira_linked_issue_ids(link_type_name) -%}
    list_sort(list_distinct(list_transform(
        list_filter(
            from_json(
                fields['issuelinks'],
                '[{"type": {"name": "VARCHAR"}, "inwardIssue": {"id": "VARCHAR"}, "outwardIssue": {"id": "VARCHAR"}}]'
            ),
            lambda link: link.type.name = '{{ link_type_name | replace("'", "''") }}'
        ),
        lambda link: coalesce(link.outwardIssue.id, link.inwardIssue.id)
    )))
{%- endmacro %}
