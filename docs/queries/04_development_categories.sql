-- Question: Which development activities cause incidents (new features, regular releases, hotfixes,
-- infrastructure or configuration changes, ...), how severe and how costly were they, over the last
-- 12 months? Categories missing or outside the taxonomy are listed too (is_valid = false): fix them
-- at the source (rpt_classification_issues names the records).
-- Source: fct_incidents, development_categories (taxonomy reference table).
select
    coalesce(i.development_category, '(missing)') as development_category,
    d.name_ja as development_category_ja,
    bool_and(i.is_development_category_valid) as is_valid,
    count(*) as incidents,
    count(*) filter (where i.severity_rank <= 2) as sev1_sev2_incidents,
    count(*) filter (where i.is_change_related) as change_related_incidents,
    sum(i.impact_minutes) as impact_minutes,
    median(i.minutes_to_recover) as recover_median_minutes
from fct_incidents as i
left join development_categories as d on i.development_category = d.development_category
where i.occurred_month >= (
    select cast(date_trunc('month', max(as_of_date)) - interval 11 month as date) from rpt_reliability_monthly
)
group by all
order by incidents desc, development_category;
