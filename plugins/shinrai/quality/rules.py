"""The data-quality rules, declared once: datasets (one SQL query each), their expectations, and
which checkpoint validates which dataset.

A *dataset* is the rows one rule family looks at, shaped for it by a read-only query over the
landing files or the warehouse; GX then judges the rows (the business rule lives in the
expectation, the query only joins in the context it needs). Every dataset starts with the same
three columns, which GX reports for each failing row (``unexpected_index_column_names``):

* ``record_key``: the human key (Jira issue key, Notion page id, ``source.stream``, ``product:month``);
* ``record_url``: a link back to the source (``<jira>/browse/<KEY>``, the Notion page url), or null;
* ``record_note``: a short hint shown beside the key (the quarantine reason, the summary, ...).

Each expectation carries GX's own ``severity``: ``critical`` blocks publication of the marts,
``warning`` alerts only, and a ``meta.rule`` name that is stable across runs (the validation
history is keyed on it). dbt's tests own keys and relationships (unique / not_null /
relationships on sources, staging and marts); nothing here re-tests them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

INDEX_COLUMNS = ["record_key", "record_url", "record_note"]
LAYERS = ("raw", "staging", "marts")
# Checkpoints: one per layer, and ``nightly`` with every dataset (one alert per pipeline run).
CHECKPOINTS: dict[str, tuple[str, ...]] = {
    "raw": ("raw",),
    "staging": ("staging",),
    "marts": ("marts",),
    "nightly": LAYERS,
}
# Streams whose extraction is logged in each landing file's state.extraction_runs.
RUN_LOG_STREAMS: dict[str, tuple[str, ...]] = {
    "jira": ("incidents", "postmortems", "actions", "versions", "users"),
    "notion": ("risk_records", "release_calendar", "users"),
    "slack": ("users", "channels", "messages"),
}
JIRA_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%f%z"  # 2024-05-01T10:02:00.000+0900


@dataclass(frozen=True)
class Dataset:
    name: str  # the GX data asset, expectation suite and validation definition
    layer: str  # raw | staging | marts
    datasource: str  # landing | warehouse
    query: str
    expectations: Callable[[], list[Any]]


def _rule(cls_name: str, rule: str, severity: str, description: str, show_note: bool = False,
          **kwargs: Any) -> Any:
    """``show_note``: the Slack alert prints each failing record's ``record_note`` beside its key
    (where the note carries the figures: a quarantine reason, a volume drop)."""
    import great_expectations.expectations as gxe

    cls = getattr(gxe, cls_name)
    meta: dict[str, Any] = {"rule": rule}
    if show_note:
        meta["show_note"] = True
    return cls(severity=severity, description=description, meta=meta, **kwargs)


def _col(name: str) -> Any:
    from great_expectations.expectations.row_conditions import Column

    return Column(name)


def _jira_browse_url(payload: str, key: str) -> str:
    """``<site>/browse/<KEY>``, the site taken from the issue's own REST ``self`` link."""
    return f"regexp_extract(json_extract_string({payload}, '$.self'), '^(.*?)/rest/api/', 1) || '/browse/' || {key}"


def _jira_sites(stream: str) -> str:
    """``(source_id, site)`` of a raw Jira stream, the site (``https://<site>``) read from each
    issue's REST ``self`` link, for joining a link onto staging rows: the payload is reduced to
    its site while it is scanned, so a join keeps a short string per issue, never the payloads
    (a hash join built on ``jira.raw.actions`` itself held every payload: ~600 MB at 100x sandbox
    scale, past duckdb.memory_limit)."""
    return (f"(select source_id, regexp_extract(json_extract_string(payload, '$.self'), '^(.*?)/rest/api/', 1) "
            f"as site from jira.raw.{stream})")


# -- raw landing ---------------------------------------------------------------------------------

RAW_JIRA_ISSUES = f"""
with issues as (
    select 'incidents' as stream, * from jira.raw.incidents
    union all
    select 'postmortems' as stream, * from jira.raw.postmortems
    union all
    select 'actions' as stream, * from jira.raw.actions
)
select
    source_key as record_key,
    {_jira_browse_url('payload', 'source_key')} as record_url,
    stream as record_note,
    stream,
    source_id,
    source_key,
    json_extract_string(payload, '$.fields.summary') as summary,
    json_extract_string(payload, '$.fields.status.name') as status_name,
    json_extract_string(payload, '$.fields.issuetype.name') as issue_type
from issues
where not is_deleted
"""


def _raw_jira_issues() -> list[Any]:
    return [
        _rule("ExpectColumnValuesToNotBeNull", "issue_key_present", "critical",
              "Every landed Jira issue has its key (what people and links use).", column="source_key"),
        _rule("ExpectColumnValuesToBeUnique", "issue_in_one_stream", "critical",
              "A Jira issue is landed in exactly one of incidents, postmortems and actions "
              "(overlapping JQL would count it twice).", column="source_id"),
        _rule("ExpectColumnValuesToNotBeNull", "summary_present", "critical",
              "Required field: summary.", column="summary"),
        _rule("ExpectColumnValuesToNotBeNull", "status_present", "critical",
              "Required field: status.", column="status_name"),
        _rule("ExpectColumnValuesToNotBeNull", "issue_type_present", "critical",
              "Required field: issue type.", column="issue_type"),
    ]


RAW_NOTION_PAGES = """
with pages as (
    select 'risk_records' as stream, * from notion.raw.risk_records
    union all
    select 'release_calendar' as stream, * from notion.raw.release_calendar
)
select
    source_id as record_key,
    json_extract_string(payload, '$.url') as record_url,
    stream as record_note,
    stream,
    json_extract(payload, '$.properties') as properties,
    json_extract_string(payload, '$.url') as page_url
from pages
where not is_deleted
"""


def _raw_notion_pages() -> list[Any]:
    return [
        _rule("ExpectColumnValuesToNotBeNull", "properties_present", "critical",
              "Required field: the page's properties.", column="properties"),
        _rule("ExpectColumnValuesToNotBeNull", "page_url_present", "critical",
              "Required field: the page url (alerts and BI link to it).", column="page_url"),
    ]


RAW_TIMESTAMPS = f"""
with field_map as (
    select logical_name, field_id from jira.raw.field_map
    where logical_name in ('introduced_at', 'occurred_at', 'detected_at', 'acknowledged_at',
                           'mitigated_at', 'recovered_at')
      -- a date picker's yyyy-mm-dd is checked by the extractor (validate_issue), not this format
      and coalesce(reader, 'datetime') = 'datetime'
),
jira_issues as (
    select source_key, payload from jira.raw.incidents where not is_deleted
    union all
    select source_key, payload from jira.raw.postmortems where not is_deleted
    union all
    select source_key, payload from jira.raw.actions where not is_deleted
),
jira_values as (
    select source_key, payload, field, json_extract_string(payload, '$.fields.' || field) as value_text
    from jira_issues, (values ('created'), ('updated')) as f(field)
    union all
    select i.source_key, i.payload, fm.logical_name,
        json_extract_string(i.payload, '$.fields.' || fm.field_id)
    from jira.raw.incidents as i, field_map as fm
    where not i.is_deleted
),
notion_values as (
    select source_id, payload, field, json_extract_string(payload, '$.' || field) as value_text
    from (
        select * from notion.raw.risk_records union all select * from notion.raw.release_calendar
    ) as pages, (values ('created_time'), ('last_edited_time')) as f(field)
    where not is_deleted
)
select
    source_key as record_key,
    {_jira_browse_url('payload', 'source_key')} as record_url,
    field as record_note,
    'jira' as source,
    value_text
from jira_values
where value_text is not null
union all
select source_id, json_extract_string(payload, '$.url'), field, 'notion', value_text
from notion_values
where value_text is not null
union all
select source_id, null, 'ts', 'slack', json_extract_string(payload, '$.ts')
from slack.raw.messages
where not is_deleted
"""


def _raw_timestamps() -> list[Any]:
    return [
        _rule("ExpectColumnValuesToMatchStrftimeFormat", "jira_timestamps_parseable", "critical",
              "Jira timestamps (created, updated and the incident lifecycle fields) are "
              "yyyy-MM-ddTHH:mm:ss.SSS+zzzz.",
              column="value_text", strftime_format=JIRA_TIMESTAMP_FORMAT,
              row_condition=_col("source") == "jira"),
        _rule("ExpectColumnValuesToBeDateutilParseable", "notion_timestamps_parseable", "critical",
              "Notion created_time and last_edited_time parse as timestamps.",
              column="value_text", row_condition=_col("source") == "notion"),
        _rule("ExpectColumnValuesToMatchRegex", "slack_ts_parseable", "critical",
              "Slack message ts values are epoch seconds with microseconds.",
              column="value_text", regex=r"^\d{9,11}\.\d{6}$", row_condition=_col("source") == "slack"),
    ]


RAW_QUARANTINE = """
with quarantine as (
    select 'jira' as source, * from jira.raw.quarantine
    union all
    select 'notion' as source, * from notion.raw.quarantine
    union all
    select 'slack' as source, * from slack.raw.quarantine
),
landed as (
    select 'jira' as source, 'incidents' as stream, count(*) as n from jira.raw.incidents
    union all select 'jira', 'postmortems', count(*) from jira.raw.postmortems
    union all select 'jira', 'actions', count(*) from jira.raw.actions
    union all select 'notion', 'risk_records', count(*) from notion.raw.risk_records
    union all select 'notion', 'release_calendar', count(*) from notion.raw.release_calendar
    union all select 'slack', 'messages', count(*) from slack.raw.messages
),
records as (
    select
        quarantine.*,
        -- the key a person recognises: the Jira issue key, the Notion page id, the Slack channel
        coalesce(
            case when source = 'jira' then json_extract_string(try_cast(payload_text as json), '$.key') end,
            source_id,
            regexp_extract(reason, '^channel ([A-Z0-9]+):', 1),
            payload_hash
        ) as record_key,
        case
            when source = 'jira' then json_extract_string(try_cast(payload_text as json), '$.self')
            when source = 'notion' then json_extract_string(try_cast(payload_text as json), '$.url')
        end as self_url
    from quarantine
)
select
    records.record_key,
    case
        when records.source = 'jira' then regexp_extract(records.self_url, '^(.*?)/rest/api/', 1)
            || '/browse/' || records.record_key
        else records.self_url
    end as record_url,
    records.source || '.' || records.stream || ': ' || records.reason as record_note,
    records.source,
    records.stream,
    records.reason,
    records.first_seen_at,
    records.resolved_at,
    count(*) filter (where records.resolved_at is null)
        over (partition by records.source, records.stream)
        / greatest(coalesce(landed.n, 0) + count(*) filter (where records.resolved_at is null)
            over (partition by records.source, records.stream), 1) as stream_unresolved_share
from records
left join landed
    on records.source = landed.source and records.stream = landed.stream
"""


def _raw_quarantine() -> list[Any]:
    return [
        _rule("ExpectColumnValuesToNotBeNull", "quarantine_resolved", "warning",
              "Records the extractors could not land (raw.quarantine) are resolved: each unresolved "
              "one is missing from the marts until its source is fixed.", column="resolved_at",
              show_note=True),
        _rule("ExpectColumnValuesToBeBetween", "quarantine_share_below_limit", "critical",
              "Unresolved quarantined records stay below the configured share of their stream "
              "(quality.quarantine_max_share): more means a source is sending mostly broken data.",
              column="stream_unresolved_share", max_value={"$PARAMETER": "quarantine_max_share"},
              row_condition=_col("resolved_at").is_null(), show_note=True),
    ]


# -- staging -------------------------------------------------------------------------------------

def _mapped(field: str) -> str:
    return (f"coalesce((select code from staging.stg_config__taxonomy_values as v where v.taxonomy = '{field}' "
            f"and v.source_value = lower(trim(incidents.{field}))), incidents.{field}) as {field}")


STG_INCIDENTS = f"""
with postmortems as (
    select incident_id, min(postmortem_key) as postmortem_key
    from staging.stg_jira__postmortems
    where incident_id is not null
    group by incident_id
)
select
    incidents.incident_key as record_key,
    raw.site || '/browse/' || incidents.incident_key as record_url,
    incidents.summary as record_note,
    incidents.status_name,
    incidents.status_category = 'done' as is_resolved,
    -- each classification as its configured code when a taxonomy entry claims the value (config
    -- taxonomies.*: `Level 1` may mean a level coded otherwise), else as entered (then not in the taxonomy)
    {_mapped("severity")},
    {_mapped("cause_category")},
    {_mapped("development_category")},
    {_mapped("detection_route")},
    incidents.occurred_at,
    incidents.detected_at,
    incidents.acknowledged_at,
    incidents.mitigated_at,
    incidents.recovered_at,
    coalesce(severity_levels.postmortem_required, false) as severity_requires_postmortem,
    postmortems.postmortem_key
from staging.stg_jira__incidents as incidents
left join {_jira_sites('incidents')} as raw
    on incidents.incident_id = raw.source_id
left join staging.stg_config__taxonomy_values as severity_value
    on severity_value.taxonomy = 'severity' and lower(trim(incidents.severity)) = severity_value.source_value
left join seeds.severity_levels as severity_levels
    on severity_value.code = severity_levels.severity
left join postmortems
    on incidents.incident_id = postmortems.incident_id
"""


def _order(rule: str, later: str, earlier: str) -> Any:
    return _rule("ExpectColumnPairValuesAToBeGreaterThanB", rule, "warning",
                 f"Lifecycle order: {earlier} <= {later} (when both are set).",
                 column_A=later, column_B=earlier, or_equal=True, ignore_row_if="either_value_is_missing")


def _in_taxonomy(column: str, seed: str) -> Any:
    return _rule("ExpectColumnValuesToBeInSet", f"{column}_in_taxonomy", "warning",
                 f"{column} is a value some entry of the configured taxonomy claims (reference table {seed}; "
                 "when set).",
                 column=column, value_set={"$PARAMETER": seed})


def _stg_incidents() -> list[Any]:
    resolved = _col("is_resolved") == True  # noqa: E712 - a GX condition, not a comparison
    return [
        _rule("ExpectColumnValuesToNotBeNull", "severity_present", "warning",
              "Every incident has an incident level.", column="severity"),
        _in_taxonomy("severity", "severity_levels"),
        _rule("ExpectColumnValuesToNotBeNull", "cause_category_present_when_resolved", "warning",
              "A resolved incident has a cause category.", column="cause_category", row_condition=resolved),
        _in_taxonomy("cause_category", "cause_categories"),
        _rule("ExpectColumnValuesToNotBeNull", "development_category_present_when_resolved", "warning",
              "A resolved incident has a development category.", column="development_category",
              row_condition=resolved),
        _in_taxonomy("development_category", "development_categories"),
        _in_taxonomy("detection_route", "detection_routes"),
        _order("detected_after_occurred", "detected_at", "occurred_at"),
        _order("acknowledged_after_detected", "acknowledged_at", "detected_at"),
        _order("mitigated_after_acknowledged", "mitigated_at", "acknowledged_at"),
        _order("recovered_after_mitigated", "recovered_at", "mitigated_at"),
        _rule("ExpectColumnValuesToNotBeNull", "postmortem_filed", "warning",
              "Every resolved incident whose level requires a postmortem (severity_levels."
              "postmortem_required) has one linked.",
              column="postmortem_key",
              row_condition=resolved & (_col("severity_requires_postmortem") == True)),  # noqa: E712
    ]


STG_JIRA_MULTI_VALUED = f"""
with issues as (
    select incident_key as issue_key, incident_id as issue_id, multi_valued_fields
    from staging.stg_jira__incidents
    union all
    select postmortem_key, postmortem_id, multi_valued_fields from staging.stg_jira__postmortems
    union all
    select action_key, action_id, multi_valued_fields from staging.stg_jira__actions
),
-- only the issues with a field that held several values: the raw payloads (for the link) are read
-- for those alone, never hashed whole (at 100x sandbox scale that join ran DuckDB out of memory)
flagged as (
    select * from issues where len(multi_valued_fields) > 0
),
raw as (
    select * from {_jira_sites('incidents')} where source_id in (select issue_id from flagged)
    union all
    select * from {_jira_sites('postmortems')} where source_id in (select issue_id from flagged)
    union all
    select * from {_jira_sites('actions')} where source_id in (select issue_id from flagged)
)
select
    flagged.issue_key as record_key,
    raw.site || '/browse/' || flagged.issue_key as record_url,
    -- the logical fields (jira.fields) that held several values; the configured pick counted
    array_to_string(flagged.multi_valued_fields, ', ') as record_note
from flagged
left join raw
    on flagged.issue_id = raw.source_id
"""


def _stg_jira_multi_valued() -> list[Any]:
    return [
        _rule("ExpectColumnValuesToBeNull", "one_value_per_jira_field", "warning",
              "Each mapped Jira field holds at most one value (a multi-select, labels, components...): "
              "where it held several, the configured pick (jira.fields.<name>.pick, default first) counted.",
              show_note=True, column="record_note"),
    ]


# Source values no taxonomy entry claims (config taxonomies.*; products: products.catalogue), one
# row per field and value with how many incidents say it: the warning names `severity 'Level 5'` (in
# 12 incidents), so the fix (a `values` entry in the config) is obvious. Such values are kept as
# entered, never dropped (rpt_classification_issues lists the records).
STG_UNMAPPED_VALUES = """
with incidents as (
    select * from intermediate.int_incidents_classified
),
unmapped as (
    select 'severity' as field_name, severity as field_value
    from incidents where severity is not null and not is_severity_valid
    union all
    select 'detection_route', detection_route
    from incidents where detection_route is not null and not is_detection_route_valid
    union all
    select 'cause_category', cause_category
    from incidents where cause_category is not null and not is_cause_category_valid
    union all
    select 'development_category', development_category
    from incidents where development_category is not null and not is_development_category_valid
    union all
    select 'product', product_name
    from incidents where product_name is not null and product_code = 'unknown'
)
select
    field_name || ' ' || chr(39) || field_value || chr(39) as record_key,
    cast(null as varchar) as record_url,
    'in ' || count(*) || ' incident' || case when count(*) = 1 then '' else 's' end as record_note,
    count(*) as incident_count
from unmapped
group by field_name, field_value
order by field_name, field_value
"""


def _stg_unmapped_values() -> list[Any]:
    return [
        _rule("ExpectColumnValuesToBeBetween", "source_values_in_taxonomy", "warning",
              "Every classification value the source uses is claimed by an entry of the configured "
              "taxonomy (taxonomies.*.values) or names a configured product; each unclaimed value is "
              "named with the number of incidents that use it (add it to the config).",
              column="incident_count", max_value=0, show_note=True),
    ]


STG_ACTIONS = f"""
select
    actions.action_key as record_key,
    raw.site || '/browse/' || actions.action_key as record_url,
    actions.summary as record_note,
    actions.assignee_account_id,
    actions.due_date,
    actions.status_category <> 'done' as is_open,
    users.is_active as owner_is_active
from staging.stg_jira__actions as actions
left join {_jira_sites('actions')} as raw
    on actions.action_id = raw.source_id
left join staging.stg_jira__users as users
    on actions.assignee_account_id = users.account_id
"""


def _stg_actions() -> list[Any]:
    return [
        _rule("ExpectColumnValuesToNotBeNull", "action_has_owner", "warning",
              "Every prevention action has an owner (assignee).", column="assignee_account_id"),
        _rule("ExpectColumnValuesToNotBeNull", "action_has_due_date", "warning",
              "Every prevention action has a due date.", column="due_date"),
        _rule("ExpectColumnValuesToBeInSet", "open_action_owner_active", "warning",
              "An open action's owner is still with the company (active Jira account).",
              column="owner_is_active", value_set=[True], row_condition=_col("is_open") == True),  # noqa: E712
    ]


STG_RISK_RECORDS = """
select
    risk_record_id as record_key,
    page_url as record_url,
    title as record_note,
    status,
    priority,
    coalesce(len(assignee_user_ids), 0) as assignee_count
from staging.stg_notion__risk_records
"""


def _stg_risk_records() -> list[Any]:
    return [
        _rule("ExpectColumnValuesToBeBetween", "risk_has_assignee", "warning",
              "Every System Risk Record has at least one assignee.", column="assignee_count", min_value=1),
        _rule("ExpectColumnValuesToNotBeNull", "risk_has_priority", "warning",
              "Every System Risk Record has a priority.", column="priority"),
    ]


# -- marts ---------------------------------------------------------------------------------------

_RECONCILED = (
    ("fct_incidents", "stg_jira__incidents"),
    ("fct_postmortems", "stg_jira__postmortems"),
    ("fct_prevention_actions", "stg_jira__actions"),
    ("fct_risk_records", "stg_notion__risk_records"),
)
MART_RECONCILIATION = "\nunion all\n".join(
    f"select '{mart}' as record_key, cast(null as varchar) as record_url, '{stg}' as record_note,\n"
    f"    (select count(*) from marts.{mart}) as mart_rows,\n"
    f"    (select count(*) from staging.{stg}) as staging_rows"
    for mart, stg in _RECONCILED
)


def _mart_reconciliation() -> list[Any]:
    return [
        _rule("ExpectColumnPairValuesToBeEqual", "mart_rows_match_staging", "critical",
              "No loss: each fact mart has one row per live staging record.",
              column_A="mart_rows", column_B="staging_rows"),
        _rule("ExpectColumnValuesToBeBetween", "incidents_present", "critical",
              "fct_incidents is not empty.", column="mart_rows", min_value=1,
              row_condition=_col("record_key") == "fct_incidents"),
    ]


# severity_total: the month's counts over every level configured in taxonomies.severities (the
# rows of rpt_severity_monthly, whatever the levels are called) plus the unclassified ones. A level
# missing from rpt_severity_monthly (the taxonomy and the classification out of step) makes it short.
MART_MONTHLY_TOTALS = """
with levels as (
    select product_month_key, sum(incident_count) as level_total
    from marts.rpt_severity_monthly
    group by all
),
report as (
    select
        monthly.product_month_key,
        monthly.product_code,
        monthly.month_start,
        monthly.incident_count,
        coalesce(levels.level_total, 0) + monthly.unclassified_severity_incident_count as severity_total
    from marts.rpt_reliability_monthly as monthly
    left join levels
        on monthly.product_month_key = levels.product_month_key
),
incidents as (
    select product_code, occurred_month as month_start, count(*) as incident_count
    from marts.fct_incidents
    group by all
)
select
    coalesce(
        report.product_month_key,
        coalesce(incidents.product_code, '?') || ':' || coalesce(strftime(incidents.month_start, '%Y-%m'), '?')
    ) as record_key,
    cast(null as varchar) as record_url,
    cast(null as varchar) as record_note,
    coalesce(report.incident_count, 0) as report_incident_count,
    coalesce(incidents.incident_count, 0) as mart_incident_count,
    report.severity_total
from report
full outer join incidents
    on report.product_code = incidents.product_code and report.month_start = incidents.month_start
"""


def _mart_monthly_totals() -> list[Any]:
    return [
        _rule("ExpectColumnPairValuesToBeEqual", "monthly_counts_match_incidents", "critical",
              "rpt_reliability_monthly counts every incident of fct_incidents once, in its "
              "product and month.", column_A="report_incident_count", column_B="mart_incident_count"),
        _rule("ExpectColumnPairValuesToBeEqual", "severity_counts_add_up", "critical",
              "A month's counts over the configured severity levels (rpt_severity_monthly), unclassified "
              "included, add up to its incident count.",
              column_A="severity_total", column_B="report_incident_count",
              ignore_row_if="either_value_is_missing"),
    ]


def _freshness_query() -> str:
    runs = "\n    union all\n    ".join(
        f"select '{source}' as source, stream, status, finished_at from {source}.state.extraction_runs"
        for source in RUN_LOG_STREAMS
    )
    expected = ", ".join(f"('{s}', '{t}')" for s, streams in RUN_LOG_STREAMS.items() for t in streams)
    return f"""
with runs as (
    {runs}
),
expected (source, stream) as (
    values {expected}
),
latest as (
    select
        expected.source,
        expected.stream,
        max(runs.finished_at) filter (where runs.status = 'success') as last_success_at
    from expected
    left join runs
        on expected.source = runs.source and expected.stream = runs.stream
    group by all
)
select
    source || '.' || stream as record_key,
    cast(null as varchar) as record_url,
    'last success ' || coalesce(strftime(last_success_at, '%Y-%m-%d %H:%M UTC'), 'never') as record_note,
    last_success_at,
    date_diff('second', last_success_at, now()) / 3600.0 as hours_since_success
from latest
"""


def _mart_freshness() -> list[Any]:
    return [
        _rule("ExpectColumnValuesToNotBeNull", "extraction_succeeded", "critical",
              "Every stream has been extracted successfully at least once.", column="last_success_at"),
        _rule("ExpectColumnValuesToBeBetween", "extraction_fresh", "critical",
              "The last successful extraction of every stream is recent "
              "(quality.freshness_max_hours).",
              column="hours_since_success", max_value={"$PARAMETER": "freshness_max_hours"}),
    ]


# -- volume against the live publication ---------------------------------------------------------

# Marts whose row count must not fall sharply from one publication to the next: one row per
# source record (dim_/fct_), or per product and month (they only grow). Left out, and declared so
# (a test checks every mart is in one list): today's work lists, which empty out as people work
# (reminders and reminder messages due today, classification problems, assignees with open risks, changes since the
# month-end publication). Their loss would show in the facts they are built from.
VOLUME_MARTS = (
    "dim_people", "dim_products",
    "fct_incidents", "fct_postmortems", "fct_prevention_actions", "fct_release_freezes", "fct_releases",
    "fct_risk_records",
    "rpt_incident_snapshots", "rpt_reliability_monthly", "rpt_reliability_monthly_snapshots", "rpt_slo_attainment",
)
VOLUME_EXEMPT_MARTS = (
    "rpt_changes_since_last_publication", "rpt_classification_issues", "rpt_overdue_actions",
    "rpt_reminder_messages", "rpt_risk_assignee_load",
    # product-months x configured levels: fewer levels in the config is fewer rows, not a loss (its
    # product-months are rpt_reliability_monthly's, compared above)
    "rpt_severity_monthly",
    # the report's figures and breakdowns re-read rpt_reliability_monthly, its snapshots and
    # fct_incidents (compared above) per month and scope; the ageing buckets are a work list (overdue
    # actions closing is the point)
    "rpt_report_figures", "rpt_report_breakdowns", "rpt_overdue_action_ageing",
)
# A drop counts only when it is beyond the share *and* at least this many rows: on small counts a
# share is noise (a product with 3 incidents losing 1 is -33%), while a real loss (a lost
# permission, an unshared database, a narrowed JQL) takes many rows at once.
VOLUME_MIN_DROPPED_ROWS = 5
VOLUME_DATASET = "mart_volume"  # its baseline is written before a checkpoint that runs it (quality.volume)
_CURRENT_VOLUMES = "\n    union all\n    ".join(
    f"select '{mart}', (select count(*) from marts.{mart})" for mart in VOLUME_MARTS
)
MART_VOLUME = f"""
with baseline as (
    select * from quality.volume_baseline
),
current_tables (table_name, current_rows) as (
    {_CURRENT_VOLUMES}
),
current_products as (
    select product_code, count(*) as current_rows
    from marts.fct_incidents
    group by product_code
),
unknown_products as (
    -- incidents leaving the unknown member found their product: not a loss
    select product_code from marts.dim_products where is_unknown_member
),
compared as (
    select
        baseline.*,
        coalesce(
            case when baseline.is_product then current_products.current_rows else current_tables.current_rows end, 0
        ) as current_rows
    from baseline
    left join current_tables
        on not baseline.is_product and baseline.table_name = current_tables.table_name
    left join current_products
        on baseline.is_product and baseline.product_code is not distinct from current_products.product_code
    where (baseline.is_product or current_tables.table_name is not null)
        and not (baseline.is_product and baseline.product_code in (select product_code from unknown_products))
        -- marts built as of an earlier day than the live publication (a backfill) cannot replace
        -- it, and their months legitimately end earlier: nothing to compare
        and coalesce(
            (select max(as_of_date) from marts.rpt_reliability_monthly) >= baseline.published_as_of, true
        )
),
shares as (
    select
        *,
        published_rows - current_rows as dropped_rows,
        case when published_rows > 0 then (published_rows - current_rows) / published_rows else 0 end as drop_share
    from compared
)
select
    case when is_product then table_name || '[' || coalesce(product_code, '?') || ']' else table_name end
        as record_key,
    cast(null as varchar) as record_url,
    'published ' || published_rows || ', now ' || current_rows
        || ' (' || case when drop_share > 0 then '-' else '+' end || printf('%.1f', abs(drop_share) * 100)
        || '%, limit ' || printf('%g', round(max_drop_share * 100, 2)) || '%)'
        || case when drop_confirmed then ', confirmed by confirm_mass_deletion' else '' end as record_note,
    table_name,
    product_code,
    publication_id,
    published_rows,
    current_rows,
    dropped_rows,
    drop_share,
    drop_confirmed
from shares
"""


def _mart_volume() -> list[Any]:
    material = _col("dropped_rows") >= VOLUME_MIN_DROPPED_ROWS
    limit = {"$PARAMETER": "max_volume_drop_share"}
    return [
        _rule("ExpectColumnValuesToBeBetween", "volume_drop_within_limit", "critical",
              "No mass loss against the live publication: no mart's row count, and no product's "
              "incident count, falls by more than quality.max_volume_drop_share (drops of fewer than "
              f"{VOLUME_MIN_DROPPED_ROWS} rows do not count). A real mass deletion is confirmed for one "
              "run with the nightly DAG param confirm_mass_deletion.",
              column="drop_share", max_value=limit, show_note=True,
              row_condition=material & (_col("drop_confirmed") == False)),  # noqa: E712
        _rule("ExpectColumnValuesToBeBetween", "volume_drop_confirmed", "warning",
              "A drop beyond quality.max_volume_drop_share that this run confirmed as a real mass "
              "deletion (nightly DAG param confirm_mass_deletion): published, and alerted.",
              column="drop_share", max_value=limit, show_note=True,
              row_condition=material & (_col("drop_confirmed") == True)),  # noqa: E712
    ]


FCT_RISK_RECORDS = """
select
    risk_record_id as record_key,
    page_url as record_url,
    title || ' (last reviewed ' || coalesce(cast(last_reviewed_date as varchar), 'never') || ')' as record_note,
    is_open,
    days_since_last_review
from marts.fct_risk_records
"""


def _fct_risk_records() -> list[Any]:
    return [
        _rule("ExpectColumnValuesToBeBetween", "open_risk_reviewed_recently", "warning",
              "An open System Risk Record was reviewed within the staleness limit "
              "(quality.risk_stale_after_days, also the mart's is_stale).",
              column="days_since_last_review", max_value={"$PARAMETER": "risk_stale_after_days"},
              row_condition=_col("is_open") == True),  # noqa: E712
    ]


DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        Dataset("raw_jira_issues", "raw", "landing", RAW_JIRA_ISSUES, _raw_jira_issues),
        Dataset("raw_notion_pages", "raw", "landing", RAW_NOTION_PAGES, _raw_notion_pages),
        Dataset("raw_timestamps", "raw", "landing", RAW_TIMESTAMPS, _raw_timestamps),
        Dataset("raw_quarantine", "raw", "landing", RAW_QUARANTINE, _raw_quarantine),
        Dataset("stg_incidents", "staging", "warehouse", STG_INCIDENTS, _stg_incidents),
        Dataset("stg_actions", "staging", "warehouse", STG_ACTIONS, _stg_actions),
        Dataset("stg_jira_multi_valued", "staging", "warehouse", STG_JIRA_MULTI_VALUED, _stg_jira_multi_valued),
        Dataset("stg_unmapped_values", "staging", "warehouse", STG_UNMAPPED_VALUES, _stg_unmapped_values),
        Dataset("stg_risk_records", "staging", "warehouse", STG_RISK_RECORDS, _stg_risk_records),
        Dataset("mart_reconciliation", "marts", "warehouse", MART_RECONCILIATION, _mart_reconciliation),
        Dataset("mart_monthly_totals", "marts", "warehouse", MART_MONTHLY_TOTALS, _mart_monthly_totals),
        Dataset("mart_freshness", "marts", "warehouse", _freshness_query(), _mart_freshness),
        Dataset("fct_risk_records", "marts", "warehouse", FCT_RISK_RECORDS, _fct_risk_records),
        Dataset(VOLUME_DATASET, "marts", "warehouse", MART_VOLUME, _mart_volume),
    )
}


def datasets_for(checkpoint: str) -> list[Dataset]:
    if checkpoint not in CHECKPOINTS:
        raise ValueError(f"unknown quality checkpoint {checkpoint!r}; expected one of {sorted(CHECKPOINTS)}")
    layers = CHECKPOINTS[checkpoint]
    return [d for d in DATASETS.values() if d.layer in layers]
