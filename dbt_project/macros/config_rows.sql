{#-
  A list var of mappings (a configuration section such as taxonomies.severities, passed by
  shinrai.transform.dbt.dbt_vars) as a typed table: one row per entry, in the configured order,
  with its 1-based `position`. `columns` is a list of [key, sql_type]; a key the entry lacks is
  null. An empty list gives an empty table of the same columns and types, so downstream SQL never
  depends on whether a site configured an entry.
-#}
{% macro config_rows(var_name, columns) -%}
    {%- set rows = var(var_name) -%}
    {%- if rows | length == 0 -%}
    select
        {% for column in columns -%}
        cast(null as {{ column[1] }}) as {{ column[0] }},
        {% endfor -%}
        cast(null as integer) as position
    where false
    {%- else -%}
    select
        {% for column in columns -%}
        cast({{ column[0] }} as {{ column[1] }}) as {{ column[0] }},
        {% endfor -%}
        cast(position as integer) as position
    from (values
        {% for row in rows -%}
        ({% for column in columns %}{{ config_literal(row.get(column[0])) }}, {% endfor %}{{ loop.index }}){{ "," if not loop.last }}
        {% endfor -%}
    ) as config_row ({% for column in columns %}{{ column[0] }}, {% endfor %}position)
    {%- endif -%}
{%- endmacro %}

{#- One configuration value as an SQL literal: null, true/false, a number, a string, or a list of strings. -#}
{% macro config_literal(value) -%}
    {%- if value is none -%}null
    {%- elif value is sameas true -%}true
    {%- elif value is sameas false -%}false
    {%- elif value is number -%}{{ value }}
    {%- elif value is string -%}'{{ value | replace("'", "''") }}'
    {%- elif value is iterable -%}[{% for item in value %}{{ config_literal(item) }}{{ ", " if not loop.last }}{% endfor %}]::varchar[]
    {%- else -%}'{{ value | string | replace("'", "''") }}'
    {%- endif -%}
{%- endmacro %}
