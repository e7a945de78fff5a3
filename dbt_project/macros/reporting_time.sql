{#-
  Time helpers. Every instant is stored as timestamptz (UTC session); days, months and "today"
  are taken in the reporting time zone (var reporting_timezone, from config reporting.timezone).
-#}

{#- The as-of date ("today") as a SQL date: var as_of_date (YYYY-MM-DD) or the current date in the
    reporting zone. Every as-of figure (overdue, ages, reminders, open windows) uses it. -#}
{% macro as_of_date() -%}
    {%- set pinned = var('as_of_date') -%}
    {%- if pinned -%}
        cast('{{ pinned }}' as date)
    {%- else -%}
        cast(timezone('{{ var("reporting_timezone") }}', current_timestamp) as date)
    {%- endif -%}
{%- endmacro %}

{#- The instant the as-of date ends (midnight after it, reporting zone): "open at as-of" means
    not closed before this instant. -#}
{% macro as_of_end_at() -%}
    {{ local_midnight(as_of_date() ~ ' + 1') }}
{%- endmacro %}

{#- The instant a local calendar date starts in the reporting zone. -#}
{% macro local_midnight(date_expr) -%}
    timezone('{{ var("reporting_timezone") }}', cast({{ date_expr }} as timestamp))
{%- endmacro %}

{#- The calendar date of an instant in the reporting zone. -#}
{% macro local_date(ts_expr) -%}
    cast(timezone('{{ var("reporting_timezone") }}', {{ ts_expr }}) as date)
{%- endmacro %}

{#- The first day of the month of an instant in the reporting zone. -#}
{% macro local_month(ts_expr) -%}
    cast(date_trunc('month', timezone('{{ var("reporting_timezone") }}', {{ ts_expr }})) as date)
{%- endmacro %}

{#- Minutes from one instant to another; null when either is missing or the end precedes the
    start (a missing or impossible stage is null, never zero). -#}
{% macro stage_minutes(start_expr, end_expr) -%}
    case
        when {{ end_expr }} >= {{ start_expr }}
            then date_diff('second', {{ start_expr }}, {{ end_expr }}) / 60.0
    end
{%- endmacro %}
