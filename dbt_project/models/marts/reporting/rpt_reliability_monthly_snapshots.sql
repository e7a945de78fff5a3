{#-
  The monthly report as published: the first build after a month closes (plus var
  snapshot_grace_days) freezes that month's rows here, and they never change again, so a closed
  month's figures stay reproducible however late data arrives. Append-only; `full_refresh: false`
  keeps `dbt build --full-refresh` from erasing history. What changed since: rpt_changes_since_last_publication.
-#}
{{ config(
    materialized='incremental',
    unique_key='product_month_key',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    full_refresh=false
) }}

with

monthly as (

    select * from {{ ref('rpt_reliability_monthly') }}

),

closed as (

    select * from monthly
    where month_start + interval 1 month + to_days({{ var('snapshot_grace_days') }}) <= {{ as_of_date() }}
    {%- if is_incremental() %}
        and month_start not in (select distinct month_start from {{ this }})
    {%- endif %}

),

final as (

    select
        *,
        current_timestamp as published_at,
        '{{ invocation_id }}' as published_by_invocation_id
    from closed

)

select * from final
