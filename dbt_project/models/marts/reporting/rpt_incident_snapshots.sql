{#-
  Every incident as it stood when its month was published (frozen together with
  rpt_reliability_monthly_snapshots): classification, product and the figures that feed the
  monthly report. Append-only, never fully refreshed; the baseline of rpt_changes_since_last_publication.
-#}
{{ config(
    materialized='incremental',
    unique_key='incident_snapshot_key',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    full_refresh=false
) }}

with

incidents as (

    select * from {{ ref('fct_incidents') }}

),

closed_months as (

    select distinct month_start from {{ ref('int_product_months_spined') }}
    where month_start + interval 1 month + to_days({{ var('snapshot_grace_days') }}) <= {{ as_of_date() }}
    {%- if is_incremental() %}
        and month_start not in (select distinct published_month from {{ this }})
    {%- endif %}

),

frozen as (

    select
        incidents.incident_id || ':' || strftime(incidents.occurred_month, '%Y-%m') as incident_snapshot_key,
        incidents.occurred_month as published_month,
        incidents.incident_id,
        incidents.incident_key,
        incidents.product_code,
        incidents.severity,
        incidents.detection_route,
        incidents.cause_category,
        incidents.development_category,
        incidents.occurred_at,
        incidents.minutes_to_detect,
        incidents.minutes_to_acknowledge,
        incidents.minutes_to_mitigate,
        incidents.minutes_to_recover,
        incidents.impact_minutes,
        incidents.is_change_related,
        incidents.attributed_release_id,
        current_timestamp as published_at,
        '{{ invocation_id }}' as published_by_invocation_id
    from incidents
    inner join closed_months
        on incidents.occurred_month = closed_months.month_start

)

select * from frozen
