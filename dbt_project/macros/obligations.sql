{#-
  Due-date rules shared by postmortems and prevention actions (see DECISIONLOG.md "Overdue").
  Dates are calendar dates in the reporting time zone; "today" is as_of_date().
-#}

{#- On time: completed on or before the due date. Late: completed after it, or still open once
    the due date has passed. Null: no due date, or open and not yet due. -#}
{% macro on_time_flag(completed_date, due_date) -%}
    case
        when {{ due_date }} is null then null
        when {{ completed_date }} is not null then {{ completed_date }} <= {{ due_date }}
        when {{ as_of_date() }} > {{ due_date }} then false
    end
{%- endmacro %}

{#- Overdue: open and the due date is before today (due today is not overdue). -#}
{% macro overdue_flag(is_open, due_date) -%}
    coalesce({{ is_open }} and {{ due_date }} < {{ as_of_date() }}, false)
{%- endmacro %}
