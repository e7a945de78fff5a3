{#-
  Read Notion properties out of a raw page payload by their *logical* names (status, assignee, ...).
  Property names are configuration (config notion.<stream>.properties); the extractor checks them
  against the data source schema and lands the mapping in raw.property_map, which staging joins in
  as `pm` (one row per stream, one column per logical name). The page is parsed once
  (`notion_page()`: page metadata and a MAP of property name -> JSON), each property once into a struct of every
  shape a property value may have (`notion_property()`), and the other macros read that struct, so
  a property whose type changes in Notion keeps working.
-#}
{% macro notion_page(payload='payload') -%}
    from_json({{ payload }}, '{
        "properties": "MAP(VARCHAR, JSON)", "url": "VARCHAR", "created_time": "VARCHAR",
        "last_edited_time": "VARCHAR", "created_by": {"id": "VARCHAR"}
    }')
{%- endmacro %}

{% macro notion_property(logical) -%}
    from_json(page.properties[pm.{{ logical }}], '{
        "type": "VARCHAR",
        "select": {"name": "VARCHAR"}, "status": {"name": "VARCHAR"},
        "title": [{"plain_text": "VARCHAR"}], "rich_text": [{"plain_text": "VARCHAR"}],
        "url": "VARCHAR", "email": "VARCHAR", "phone_number": "VARCHAR", "number": "VARCHAR",
        "date": {"start": "VARCHAR"},
        "formula": {"string": "VARCHAR", "number": "VARCHAR", "date": {"start": "VARCHAR"}},
        "unique_id": {"prefix": "VARCHAR", "number": "VARCHAR"}, "multi_select": [{"name": "VARCHAR"}],
        "people": [{"id": "VARCHAR"}], "relation": [{"id": "VARCHAR"}]
    }')
{%- endmacro %}

{#- A property value as text, whatever its type: title/rich_text (plain text joined), select,
    status, url, email, phone, number, date (start), formula, unique_id, multi_select (names joined). -#}
{% macro notion_text(prop) -%}
    coalesce(
        {{ prop }}.select.name,
        {{ prop }}.status.name,
        nullif(array_to_string(list_transform({{ prop }}.title, lambda item: item.plain_text), ''), ''),
        nullif(array_to_string(list_transform({{ prop }}.rich_text, lambda item: item.plain_text), ''), ''),
        {{ prop }}.url,
        {{ prop }}.email,
        {{ prop }}.phone_number,
        {{ prop }}.number,
        {{ prop }}.date.start,
        {{ prop }}.formula.string,
        {{ prop }}.formula.number,
        {{ prop }}.formula.date.start,
        nullif(concat_ws('-', {{ prop }}.unique_id.prefix, {{ prop }}.unique_id.number), ''),
        nullif(array_to_string(list_transform({{ prop }}.multi_select, lambda item: item.name), ', '), '')
    )
{%- endmacro %}

{#- A date property's start as an instant. A date-only start (2025-06-01) is midnight in the
    reporting zone; a datetime keeps its offset; anything unparseable is null. -#}
{% macro notion_datetime(prop) -%}
    case
        when length({{ prop }}.date.start) = 10
            then {{ local_midnight("try_cast(" ~ prop ~ ".date.start as date)") }}
        else try_cast({{ prop }}.date.start as timestamptz)
    end
{%- endmacro %}

{#- The user ids of a people property (or the page ids of a relation) as a list. -#}
{% macro notion_people_ids(prop) -%}
    coalesce(
        list_transform({{ prop }}.people, lambda person: person.id),
        list_transform({{ prop }}.relation, lambda related: related.id),
        []
    )
{%- endmacro %}
