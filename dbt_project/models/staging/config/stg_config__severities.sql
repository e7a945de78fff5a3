-- The severity levels of config taxonomies.severities, most severe first (severity_rank = position).
-- A table in the seeds schema under the reference table's old name (seeds.severity_levels), so the
-- publication and BI read it as before; the values that mean each level: stg_config__taxonomy_values.
{{ config(materialized='table', schema='seeds', alias='severity_levels') }}

with

levels as (

    {{ config_rows('taxonomy_severities', [
        ['code', 'varchar'], ['name_en', 'varchar'], ['name_ja', 'varchar'],
        ['definition_en', 'varchar'], ['definition_ja', 'varchar'],
        ['response_mode_en', 'varchar'], ['response_mode_ja', 'varchar'],
        ['availability_impact_weight', 'double'], ['postmortem_required', 'boolean'],
        ['freezes_releases', 'boolean'], ['major', 'boolean']]) }}

),

final as (

    select
        code as severity,
        position as severity_rank,
        name_en,
        name_ja,
        definition_en,
        definition_ja,
        response_mode_en,
        response_mode_ja,
        availability_impact_weight,
        coalesce(postmortem_required, false) as postmortem_required,
        coalesce(freezes_releases, false) as freezes_releases,
        coalesce(major, false) as is_major
    from levels

)

select * from final
