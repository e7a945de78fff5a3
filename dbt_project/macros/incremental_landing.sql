{#-
  Incremental staging of a landing stream (the Jira issue streams are what a rebuild costs at
  scale: every payload is a few KB of JSON). Each build parses only the records landed since the
  newest one already parsed *with the same mapping* (`mapping_hash`: the Jira field map and the
  relation vars), so a changed mapping reparses everything; records gone from the landing table
  (soft-deleted there) are deleted here by the post-hook. The watermark looks back
  var incremental_lookback_minutes (60): records a worker with a slow clock landed are not missed,
  and reparsing them is idempotent (delete+insert on the key).
-#}

{#- The landing rows to parse in this build: all of them on a full build, else those landed after
    the watermark of rows parsed with the current mapping. -#}
{% macro landed_since_last_build(mapping_hash_sql) -%}
    {%- if is_incremental() %}
    and extracted_at > coalesce(
        (select max(extracted_at) from {{ this }} where mapping_hash = ({{ mapping_hash_sql }}))
            - to_minutes({{ var('incremental_lookback_minutes') }}),
        '-infinity'::timestamptz
    )
    {%- endif %}
{%- endmacro %}

{#- Post-hook: drop the rows whose landing record is no longer live. -#}
{% macro delete_vanished(key_column, landing_relation) -%}
    delete from {{ this }}
    where {{ key_column }} not in (select source_id from {{ landing_relation }} where not is_deleted)
{%- endmacro %}
