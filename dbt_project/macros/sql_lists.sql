{#- A parenthesised SQL list of string literals from a list var, for `x in {{ sql_in_list('v') }}`. -#}
{% macro sql_in_list(var_name) -%}
    ({%- for item in var(var_name) -%}'{{ item | replace("'", "''") }}'{{ ", " if not loop.last }}{%- endfor -%})
{%- endmacro %}
