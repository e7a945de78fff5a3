{#-
  A person's name as compared across sources (people.match_by: display_name): trimmed, every run
  of white space (the ideographic space U+3000 too) one space, lower-cased, Unicode NFC. DuckDB
  has NFC but not NFKC, so compatibility forms (full-width Ｔａｒｏ, half-width kana) are not folded:
  such a name matches only a Slack name written the same way (DECISIONLOG: people matching).
-#}
{% macro person_name_key(expr) -%}
    nullif(lower(trim(regexp_replace(nfc_normalize({{ expr }}), '[\s\x{3000}]+', ' ', 'g'))), '')
{%- endmacro %}
