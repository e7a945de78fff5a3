{#-
  Read Notion properties out of a raw page payload by their *logical* names (status, assignee, ...).
  Property names are configuration (config notion.<stream>.properties); the extractor checks each
  property's type against the data source schema (shinrai.extract.notion_types) and lands the
  mapping in raw.property_map: name, type, reader (the logical property's need: text, category,
  timestamp, person, keys), part (start|end of a date range) and pick (first|last of several
  values). Staging joins it in as `pm` (one row per stream; per logical name the columns
  <logical>, <logical>_type, <logical>_part, <logical>_pick) and the macros below branch on the
  stored type. The page is parsed once (`notion_page()`), each property once into a struct of every
  shape a value may have (`notion_property()`). A relation's values are the related pages' titles,
  cached by the extractor in raw.page_titles and joined in as `titles.page_titles` (a MAP).
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
        "checkbox": "VARCHAR",
        "date": {"start": "VARCHAR", "end": "VARCHAR"},
        "created_time": "VARCHAR", "last_edited_time": "VARCHAR",
        "created_by": {"id": "VARCHAR"}, "last_edited_by": {"id": "VARCHAR"},
        "formula": {"type": "VARCHAR", "string": "VARCHAR", "number": "VARCHAR", "boolean": "VARCHAR",
                    "date": {"start": "VARCHAR", "end": "VARCHAR"}},
        "unique_id": {"prefix": "VARCHAR", "number": "VARCHAR"}, "multi_select": [{"name": "VARCHAR"}],
        "people": [{"id": "VARCHAR"}], "relation": [{"id": "VARCHAR"}],
        "rollup": {"type": "VARCHAR", "number": "VARCHAR", "date": {"start": "VARCHAR", "end": "VARCHAR"},
                   "array": [{"type": "VARCHAR", "title": [{"plain_text": "VARCHAR"}],
                              "rich_text": [{"plain_text": "VARCHAR"}], "select": {"name": "VARCHAR"},
                              "status": {"name": "VARCHAR"}, "multi_select": [{"name": "VARCHAR"}],
                              "number": "VARCHAR", "checkbox": "VARCHAR",
                              "formula": {"type": "VARCHAR", "string": "VARCHAR", "number": "VARCHAR",
                                          "boolean": "VARCHAR"}}]}
    }')
{%- endmacro %}

{#- Rich text (title, rich_text) as one string; null when empty. -#}
{% macro _notion_plain(items) -%}
    nullif(array_to_string(list_transform({{ items }}, lambda item: item.plain_text), ''), '')
{%- endmacro %}

{#- A formula's result as text (string, number or boolean; a date formula is read as a timestamp). -#}
{% macro _notion_formula_text(formula) -%}
    case {{ formula }}.type
        when 'string' then {{ formula }}.string
        when 'number' then {{ formula }}.number
        when 'boolean' then {{ formula }}.boolean
    end
{%- endmacro %}

{#- The values a property holds, by its stored type, as a list of non-empty strings (in order):
    one for title, rich_text (plain text joined), select, status, url, email, phone, number,
    checkbox, unique_id (prefix-number), formula; each option of a multi_select; each related page's
    title for a relation; each rolled-up value for a rollup (number and date rollups give one). -#}
{% macro notion_values(logical, prop) -%}
    list_filter(
        case pm.{{ logical }}_type
            when 'select' then [{{ prop }}.select.name]
            when 'status' then [{{ prop }}.status.name]
            when 'multi_select' then list_transform({{ prop }}.multi_select, lambda option: option.name)
            when 'title' then [{{ _notion_plain(prop ~ '.title') }}]
            when 'rich_text' then [{{ _notion_plain(prop ~ '.rich_text') }}]
            when 'url' then [{{ prop }}.url]
            when 'email' then [{{ prop }}.email]
            when 'phone_number' then [{{ prop }}.phone_number]
            when 'number' then [{{ prop }}.number]
            when 'checkbox' then [{{ prop }}.checkbox]
            when 'unique_id' then [
                case when {{ prop }}.unique_id.number is not null
                    then concat_ws('-', {{ prop }}.unique_id.prefix, {{ prop }}.unique_id.number) end]
            when 'formula' then [{{ _notion_formula_text(prop ~ '.formula') }}]
            when 'relation' then list_transform({{ prop }}.relation, lambda related: titles.page_titles[related.id])
            when 'rollup' then
                case {{ prop }}.rollup.type
                    when 'number' then [{{ prop }}.rollup.number]
                    when 'array' then flatten(list_transform({{ prop }}.rollup.array, lambda element:
                        case element.type
                            when 'title' then [{{ _notion_plain('element.title') }}]
                            when 'rich_text' then [{{ _notion_plain('element.rich_text') }}]
                            when 'select' then [element.select.name]
                            when 'status' then [element.status.name]
                            when 'multi_select' then list_transform(element.multi_select, lambda option: option.name)
                            when 'number' then [element.number]
                            when 'checkbox' then [element.checkbox]
                            when 'formula' then [{{ _notion_formula_text('element.formula') }}]
                        end))
                end
        end,
        lambda value: nullif(trim(value), '') is not null
    )
{%- endmacro %}

{#- The one value that counts (pm.<logical>_pick: first or last of the property's values). -#}
{% macro notion_pick(logical, prop) -%}
    case when pm.{{ logical }}_pick = 'last'
        then {{ notion_values(logical, prop) }}[-1]
        else {{ notion_values(logical, prop) }}[1]
    end
{%- endmacro %}

{#- Every value joined by ', ' (a list of issue keys is parsed out of it downstream). -#}
{% macro notion_joined(logical, prop) -%}
    nullif(array_to_string({{ notion_values(logical, prop) }}, ', '), '')
{%- endmacro %}

{#- Whether the property held more than one value in this record. -#}
{% macro notion_is_multi(logical, prop) -%}
    coalesce(len({{ notion_values(logical, prop) }}) > 1, false)
{%- endmacro %}

{#- A Notion date string as an instant: a date-only value (2025-06-01) is midnight in the reporting
    zone; a datetime keeps its offset; anything unparseable is null. -#}
{% macro _notion_instant(value) -%}
    case
        when length({{ value }}) = 10 then {{ local_midnight("try_cast(" ~ value ~ " as date)") }}
        else try_cast({{ value }} as timestamptz)
    end
{%- endmacro %}

{#- A date value's part (pm.<logical>_part): start, or end (a date with no end is a point: its start). -#}
{% macro _notion_date_part(logical, date) -%}
    case when pm.{{ logical }}_part = 'end' then coalesce({{ date }}."end", {{ date }}.start)
        else {{ date }}.start end
{%- endmacro %}

{#- A timestamp property as an instant, by its stored type: date (its start or end), created_time,
    last_edited_time, a date formula or a date rollup. -#}
{% macro notion_timestamp(logical, prop) -%}
    case pm.{{ logical }}_type
        when 'date' then {{ _notion_instant(_notion_date_part(logical, prop ~ '.date')) }}
        when 'formula' then {{ _notion_instant(_notion_date_part(logical, prop ~ '.formula.date')) }}
        when 'rollup' then {{ _notion_instant(_notion_date_part(logical, prop ~ '.rollup.date')) }}
        when 'created_time' then try_cast({{ prop }}.created_time as timestamptz)
        when 'last_edited_time' then try_cast({{ prop }}.last_edited_time as timestamptz)
    end
{%- endmacro %}

{#- The user ids of a person property (people, created_by, last_edited_by), as a list. -#}
{% macro notion_person_ids(logical, prop) -%}
    coalesce(
        case pm.{{ logical }}_type
            when 'people' then list_transform({{ prop }}.people, lambda person: person.id)
            when 'created_by' then [{{ prop }}.created_by.id]
            when 'last_edited_by' then [{{ prop }}.last_edited_by.id]
        end,
        []
    )
{%- endmacro %}

{#- multi_valued_fields: the logical names (of those given) whose value held several values. -#}
{% macro notion_multi_valued(pairs) -%}
    list_filter([
        {%- for logical, prop in pairs %}
        case when {{ notion_is_multi(logical, prop) }} then '{{ logical }}' end{{ "," if not loop.last }}
        {%- endfor %}
    ], lambda name: name is not null)::varchar[]
{%- endmacro %}
