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

{#- A configured Jira field's values as a list of text (trimmed, empty ones dropped; an empty list
    when the field is empty or not configured). How the JSON is read depends on the field's type on
    this site, resolved by the extractor into stg_jira__field_map as `<logical>_reader` (see
    shinrai.extract.jira.CATEGORY_READERS): a single-value field gives a list of one. -#}
{% macro jira_field_values(logical) -%}
    {%- set v = "fields[fm." ~ logical ~ "]" -%}
    coalesce(list_filter(list_transform(
        case fm.{{ logical }}_reader
            when 'option' then [json_extract_string({{ v }}, '$.value')]
            when 'option_array' then json_extract_string({{ v }}, '$[*].value')
            when 'cascading' then [case when fm.{{ logical }}_part = 'child'
                                        then json_extract_string({{ v }}, '$.child.value')
                                        else json_extract_string({{ v }}, '$.value') end]
            when 'string_array' then json_extract_string({{ v }}, '$[*]')
            when 'name_array' then json_extract_string({{ v }}, '$[*].name')
            when 'name' then [json_extract_string({{ v }}, '$.name')]
            when 'key' then [json_extract_string({{ v }}, '$.key')]
            when 'string' then [json_extract_string({{ v }}, '$')]
            when 'number' then [{{ jira_number_text("json_extract_string(" ~ v ~ ", '$')") }}]
            when 'user' then [json_extract_string({{ v }}, '$.displayName')]
            when 'user_array' then json_extract_string({{ v }}, '$[*].displayName')
        end,
        value -> nullif(trim(value), '')
    ), value -> value is not null), []::varchar[])
{%- endmacro %}

{#- A JSON number as text, without the trailing `.0` Jira gives an integral number field (3.0 -> 3). -#}
{% macro jira_number_text(text) -%}
    case when try_cast({{ text }} as double) = trunc(try_cast({{ text }} as double))
         then cast(cast(try_cast({{ text }} as double) as hugeint) as varchar)
         else {{ text }} end
{%- endmacro %}

{#- The one value that counts among a field's values (jira_field_values): the first or the last, as
    configured (`pick`); null when there is none. -#}
{% macro jira_field_pick(logical, values) -%}
    case when fm.{{ logical }}_pick = 'last' then {{ values }}[-1] else {{ values }}[1] end
{%- endmacro %}

{#- The logical fields (of those given) whose value held more than one value in this record; each
    `<logical>_values` must be a column (jira_field_values). -#}
{% macro jira_multi_valued_fields(logicals) -%}
    list_filter([
        {%- for logical in logicals %}
        case when len({{ logical }}_values) > 1 then '{{ logical }}' end{{ "," if not loop.last }}
        {%- endfor %}
    ]::varchar[], name -> name is not null)
{%- endmacro %}

{#- A configured timestamp field as timestamptz (null when empty, unparseable or not configured): a
    Jira datetime as is, a date picker's date (no time, no offset) as that day's midnight in the
    reporting time zone. -#}
{% macro jira_field_timestamp(logical) -%}
    case fm.{{ logical }}_reader
        when 'date' then {{ local_midnight("try_cast(json_extract_string(fields[fm." ~ logical ~ "], '$') as date)") }}
        else try_cast(json_extract_string(fields[fm.{{ logical }}], '$') as timestamptz)
    end
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
