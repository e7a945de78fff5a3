{#-
  Slack patterns are configuration (config slack.*, passed as vars). They are Python regexes with
  named groups, which DuckDB's RE2 accepts as written: `(?P<number>\d+)`.
-#}
{% macro regex_group(text_expr, pattern_var, group) -%}
    nullif(regexp_extract({{ text_expr }}, '{{ var(pattern_var) | replace("'", "''") }}', ['{{ group }}']).{{ group }}, '')
{%- endmacro %}

{% macro regex_matches(text_expr, pattern_var) -%}
    coalesce(regexp_matches({{ text_expr }}, '{{ var(pattern_var) | replace("'", "''") }}'), false)
{%- endmacro %}

{#- Every Jira issue key mentioned in a text (URLs included), as a distinct sorted list. -#}
{% macro jira_keys_in(text_expr) -%}
    list_sort(list_distinct(regexp_extract_all(coalesce({{ text_expr }}, ''), '\b([A-Z][A-Z0-9]+-[0-9]+)\b', 1)))
{%- endmacro %}

