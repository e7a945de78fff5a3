{#- A parenthesised SQL list of string literals from a list var, for `x in {{ sql_in_list('v') }}`. -#}
{% macro sql_in_list(var_name) -%}
    ({%- for item in var(var_name) -%}'{{ item | replace("'", "''") }}'{{ ", " if not loop.last }}{%- endfor -%})
{%- endmacro %}

{#- A SQL string literal (quotes doubled), or null for none: a config value spliced into SQL. -#}
{% macro sql_string(value) -%}
    {%- if value is none -%}cast(null as varchar){%- else -%}'{{ value | replace("'", "''") }}'{%- endif -%}
{%- endmacro %}

{#- A DuckDB VARCHAR[] literal from a list of strings (an empty list is an empty array, unlike sql_in_list). -#}
{% macro sql_string_array(items) -%}
    cast([{%- for item in items -%}{{ sql_string(item) }}{{ ", " if not loop.last }}{%- endfor -%}] as varchar[])
{%- endmacro %}
