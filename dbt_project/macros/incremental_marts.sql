{#-
  Incremental facts (DECISIONLOG.md "Incremental facts"). A fact's rows are rebuilt only when what
  they are computed from changed. Each fact names its inputs in one query, `inputs_sql`: a row per
  live record with `input_signature`, the md5 of the versions of everything its row reads (its own
  landing version, the landing versions of the records it joins or counts, the results of the
  small joins it takes whole, and var code_digest: the dbt code and configuration). The signatures
  of the last build are kept in state.mart_inputs__<fact>; a build rebuilds the keys whose signature
  differs or is new, and drops the rows whose key is no longer live. A full refresh, or a first
  build without stored signatures, rebuilds every row.
  Columns that depend on "today" (var as_of_date: overdue, ages, stale) are computed for every row
  on every build, by the post-hook refresh_as_of (the same expressions the model selects), so an
  unchanged row never keeps yesterday's value.
-#}

{#- The stored signatures of the last build of this fact (none before its first incremental build). -#}
{% macro stored_inputs_relation() -%}
    {{ return(adapter.get_relation(database=this.database, schema='state',
                                   identifier='mart_inputs__' ~ this.identifier)) }}
{%- endmacro %}

{#- A where-clause term restricting the fact's base records to those to rebuild on an incremental
    build: the keys whose input signature is new or changed; nothing without stored signatures.
    The model calls it only when is_incremental() (a unit test overrides is_incremental for the
    model, not for the macros it calls). -#}
{% macro only_changed_inputs(key_expr, key, inputs_sql) -%}
    {%- set stored = stored_inputs_relation() -%}
    {%- if stored is not none %}
    and {{ key_expr }} in (
        select {{ key }} from (
            select {{ key }}, input_signature from ({{ inputs_sql }}) as current_inputs
            except
            select {{ key }}, input_signature from {{ stored }}
        )
    )
    {%- endif -%}
{%- endmacro %}

{#- Post-hooks: keep this build's signatures; drop the rows of records no longer live. -#}
{% macro save_inputs(key, inputs_sql) -%}
    create schema if not exists state;
    create or replace table {{ this.database }}.state.mart_inputs__{{ this.identifier }} as {{ inputs_sql }};
    delete from {{ this }}
    where {{ key }} not in (select {{ key }} from {{ this.database }}.state.mart_inputs__{{ this.identifier }})
{%- endmacro %}

{#- Post-hook: the "today" columns of every row, with the expressions the model selects
    (`columns`: name -> SQL expression over the fact's own columns). -#}
{% macro refresh_as_of(columns) -%}
    update {{ this }} as fact set
    {%- for name, expr in columns.items() %}
        {{ name }} = {{ expr }}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- An md5 over the given SQL expressions (each cast to text, null kept distinct from ''), with the
    code digest: a changed model, macro, seed or setting rebuilds every row. -#}
{% macro signature(exprs) -%}
    md5(concat_ws('|', '{{ var("code_digest") }}'
    {%- for expr in exprs %}, coalesce(cast({{ expr }} as varchar), '\0'){% endfor %}))
{%- endmacro %}
