"""The one YAML configuration file: how a company's Jira, Notion and Slack map onto our model.

Loading validates the whole file up front, before any step reads a source or writes a file: the
YAML syntax (one line with the file, line and column), every key (an unknown key anywhere is
refused with a did-you-mean, so a misspelled ``quallity:`` never silently falls back to the
defaults), every value's type and range (a share is from 0 to 1, hours are above 0), regexes
compile with the named groups dbt extracts, the time zone exists. The schema is one pydantic model
(``extra='forbid'`` everywhere); its errors become :class:`ConfigError` lines naming the dotted key.
Names that can only be checked against a live source (a Jira field name and its type, a Notion
property) are resolved by the extractors, which raise :class:`ConfigError` naming the key.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from shinrai.settings import paths

JIRA_LOGICAL_FIELDS = (
    "severity",
    "introduced_at",
    "occurred_at",
    "detected_at",
    "acknowledged_at",
    "mitigated_at",
    "recovered_at",
    "product",
    "detection_route",
    "cause_category",
    "development_category",
)
# Only these must be mapped; any other logical field may be left out (its staging column is then NULL).
JIRA_REQUIRED_FIELDS = ("severity", "occurred_at")
JIRA_STREAMS = ("incidents", "postmortems", "actions")
RISK_PROPERTIES = (
    "title",
    "status",
    "priority",
    "assignee",
    "product",
    "recognized_at",
    "last_reviewed_at",
    "dashboard_url",
    "backlog_ticket",
    "related_issues",
)
RELEASE_PROPERTIES = ("title", "product", "release_at", "release_type", "jira_version", "status")
# the logical properties a site must map; every other one may be left out (its staging column is NULL)
RISK_REQUIRED = ("title", "status", "recognized_at")
RELEASE_REQUIRED = ("title", "product", "release_at")
# reporting.languages: the languages of the report's labels (shinrai/publish/labels.yaml has each)
REPORT_LANGUAGES = ("en", "ja")
# A landed record's JSON payload above this many bytes is quarantined instead (landing.max_record_bytes).
DEFAULT_MAX_RECORD_BYTES = 4 * 1024 * 1024
# DuckDB's memory limit in every pipeline step (duckdb.memory_limit); DuckDB's own default is 80% of RAM.
DEFAULT_DUCKDB_MEMORY_LIMIT = "512MB"
_MEMORY_LIMIT = re.compile(r"^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)


# landing.max_deleted_share: above this share of a stream, a deletion sweep is refused.
DEFAULT_MAX_DELETED_SHARE = 0.05
# airflow.retries, airflow.retry_delay_seconds: every task of the DAGs (default_args); a task that
# fails for a reason a retry cannot mend (a configuration mistake, a refused mass deletion) is not retried.
DEFAULT_TASK_RETRIES = 2
DEFAULT_RETRY_DELAY_SECONDS = 120


@dataclass(frozen=True)
class QualitySettings:
    """The ``quality:`` section: thresholds of the Great Expectations rules."""

    freshness_max_hours: float = 26.0
    quarantine_max_share: float = 0.05
    # open risks reviewed within this many days: the GX warning and the mart's is_stale (dbt var
    # risk_stale_after_days) both read this one value
    risk_stale_after_days: int = 120
    # critical: a mart's rows, or a product's incidents, dropping by more than this share against
    # the live publication blocks publication
    max_volume_drop_share: float = 0.2


@dataclass(frozen=True)
class ReleaseType:
    """One entry of ``taxonomies.release_types``: a calendar's type values that mean it, and the
    regex that classifies a Jira version without a calendar entry (the first matching type wins)."""

    code: str
    values: tuple[str, ...]
    version_pattern: str | None = None


# releases.shipped_by: the signals that can say a release shipped (any listed one suffices)
SHIPPED_SIGNALS = ("jira_released", "calendar_status", "date_passed")


@dataclass(frozen=True)
class ReleaseRules:
    """The ``releases:`` section: what "shipped" means (DECISIONLOG "Shipped")."""

    shipped_by: tuple[str, ...] = ("jira_released",)
    shipped_statuses: tuple[str, ...] = ()


@dataclass(frozen=True)
class MetricSettings:
    """The ``metrics:`` section: the constants of the mart definitions (dbt vars of the same names)."""

    release_attribution_window_hours: int = 72
    default_postmortem_within_days: int = 7
    error_budget_at_risk_share: float = 0.75
    single_incident_budget_share_limit: float = 0.2
    snapshot_grace_days: int = 0
    incremental_lookback_minutes: int = 60


class ConfigError(ValueError):
    """A configuration value is missing, malformed, or does not resolve against the source.

    Its message is one line, ``config <key>: <problem>``. When the file has several mistakes,
    ``problems`` holds every one as ``(key, problem)``, the first being this error's own.
    """

    def __init__(self, key: str, problem: str, problems: Sequence[tuple[str, str]] = ()):
        self.key = key
        self.problem = problem
        self.problems: tuple[tuple[str, str], ...] = tuple(problems) or ((key, problem),)
        super().__init__(f"config {key}: {problem}")


def did_you_mean(name: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.5)
    return f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""


@dataclass(frozen=True)
class JiraFieldOptions:
    """How a mapped Jira field is read (``jira.fields.<logical>`` given as a mapping).

    ``part``: which level of a cascading select counts; ``pick``: which value counts when the
    field holds several (multi-select, labels, components, versions).
    """

    part: Literal["parent", "child"] = "parent"
    pick: Literal["first", "last"] = "first"


@dataclass(frozen=True)
class NotionProperty:
    """One logical property's mapping: the Notion property's name, which end of a date range counts
    (``part``: start or end; None = start), and which value counts when it holds several (``pick``)."""

    name: str
    part: str | None = None
    pick: str = "first"


@dataclass(frozen=True)
class NotionDatabase:
    database_id: str
    properties: dict[str, NotionProperty]
    # notion.risk_records.closed_statuses: the statuses that mean a risk is closed (dbt var risk_closed_statuses)
    closed_statuses: tuple[str, ...] = ()


@dataclass(frozen=True)
class SlackMessagePatterns:
    """The incident-channel posts dbt recognises (int_slack_messages_classified), by what they say."""

    status_board: re.Pattern[str]
    declared: re.Pattern[str]
    ended: re.Pattern[str]
    status_update: re.Pattern[str]


# people.match_by: e-mail, then (an e-mail hidden by profile visibility) a name exactly one Slack user has
PEOPLE_MATCH_BY: tuple[str, ...] = ("email", "display_name")


# taxonomies.*: the four classification taxonomies this section owns (release_types: another section)
TAXONOMY_NAMES = ("severities", "detection_routes", "cause_categories", "development_categories")
# products.incidents_from / products.actions_from: where a record's product comes from
PRODUCT_INCIDENT_SOURCES = ("field", "project")
PRODUCT_ACTION_SOURCES = ("project", "field", "incident")


@dataclass(frozen=True)
class Taxonomies:
    """The ``taxonomies:`` section, each entry as a plain mapping with ``values`` filled in (default
    [code]); order is the configured order (severities: most severe first)."""

    severities: tuple[dict[str, Any], ...]
    detection_routes: tuple[dict[str, Any], ...]
    cause_categories: tuple[dict[str, Any], ...]
    development_categories: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class Products:
    """The ``products:`` section: how records find their product, and the product catalogue."""

    incidents_from: str
    actions_from: str
    catalogue: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class Config:
    timezone: str
    languages: tuple[str, ...]
    jira_conn_id: str
    # the mapped logical fields only (names or ids); options per mapped field in jira_field_options
    jira_fields: dict[str, str]
    jira_jql: dict[str, str]
    postmortem_link_type: str
    actions_relation_mode: str
    actions_link_type: str | None
    release_projects: tuple[str, ...]
    jira_page_size: int
    jira_lookback_minutes: int
    jira_sweep_days: int
    notion_conn_id: str
    risk_records: NotionDatabase
    release_calendar: NotionDatabase
    notion_lookback_minutes: int
    slack_conn_id: str
    incident_channel_pattern: re.Pattern[str]
    incident_key_prefix: str
    release_channel: str
    freeze_pattern: re.Pattern[str]
    resume_pattern: re.Pattern[str]
    product_pattern: re.Pattern[str]
    incident_pattern: re.Pattern[str]
    # slack.messages.*: what the incident-channel posts say (dbt classifies them with these)
    message_patterns: SlackMessagePatterns
    slack_rate_mode: str
    slack_lookback_days: int
    slack_resweep_days: int
    chaser_heads_up_business_days: int
    chaser_weekly_every_business_days: int
    chaser_escalation_after_business_days: int
    chaser_team_channel: str
    chaser_jira_comments: bool
    chaser_dry_run: bool
    source_file: Path
    taxonomies: Taxonomies
    products: Products
    # people.match_by: how a Jira or Notion person is found in Slack, in order of precedence
    people_match_by: tuple[str, ...] = PEOPLE_MATCH_BY
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES
    # duckdb.memory_limit: the buffer pool of each step's DuckDB (landing, dbt, quality checks)
    duckdb_memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT
    # pacing.enabled: pace requests to each API's published rate limit (shinrai.hooks.pacing);
    # pacing.speedup: per source, pace to limits compressed that many times (benchmarks only)
    pacing: bool = False
    pacing_speedup: dict[str, float] = field(default_factory=dict)
    # landing.max_deleted_share: a deletion sweep that would mark more than this share of a
    # stream's live records deleted marks nothing and fails the stream (confirm a real one per run)
    max_deleted_share: float = DEFAULT_MAX_DELETED_SHARE
    # quality.*: the thresholds of the Great Expectations rules (shinrai.quality)
    quality: QualitySettings = field(default_factory=lambda: QualitySettings())
    # taxonomies.release_types, releases.*, metrics.* (rules in configuration, issue 15)
    release_types: tuple[ReleaseType, ...] = ()
    releases: ReleaseRules = field(default_factory=lambda: ReleaseRules())
    metrics: MetricSettings = field(default_factory=lambda: MetricSettings())
    # jira.fields given as mappings: part (cascading level) and pick (first/last of several values)
    jira_field_options: dict[str, JiraFieldOptions] = field(default_factory=dict)
    # jira.cancelled_resolutions: resolutions (or statuses) meaning the issue owes nothing
    jira_cancelled_resolutions: tuple[str, ...] = ()
    # airflow.*: how often and how long after a failure Airflow retries each task (the DAGs' default_args)
    task_retries: int = DEFAULT_TASK_RETRIES
    retry_delay_seconds: int = DEFAULT_RETRY_DELAY_SECONDS


# -- the schema ------------------------------------------------------------------------------------
# Each constrained value carries a ``description`` that completes "must be ...": the error line
# then says the whole rule ("must be a share from 0 to 1 ..., got 2"), not only the bound it broke.


class _Section(BaseModel):
    """Every mapping of the file: unknown keys refused, no coercion (``"5"`` is not a number)."""

    # defer_build: only the whole file's validator is built, once, at the first load (not one per
    # section at import: a task or a CLI command pays ~0.1 s instead of ~0.4 s)
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{value!r} is not an IANA time zone (e.g. Asia/Tokyo, Europe/Paris, UTC)") from exc
    return value


def _language(value: str) -> str:
    if value not in REPORT_LANGUAGES:
        raise ValueError(f"must be one of {', '.join(REPORT_LANGUAGES)}, got {value!r}"
                         f"{did_you_mean(value, list(REPORT_LANGUAGES))}")
    return value


def _regex(*groups: str) -> Any:
    """A Python regex (dbt runs the same pattern in DuckDB) with the named groups dbt extracts."""

    def check(value: str) -> str:
        try:
            compiled = re.compile(value)
        except re.error as exc:
            raise ValueError(f"is not a valid regular expression ({exc})") from exc
        missing = [g for g in groups if g not in compiled.groupindex]
        if missing:
            raise ValueError(f"needs the named group {', '.join(f'(?P<{g}>...)' for g in missing)}, got {value!r}")
        return value

    return Annotated[str, AfterValidator(check)]


Text = Annotated[str, StringConstraints(pattern=r"\S"), Field(description="a non-empty string")]
Count = Annotated[int, Field(ge=0, description="a whole number >= 0")]
Positive = Annotated[int, Field(ge=1, description="a whole number >= 1")]
Share = Annotated[float, Field(ge=0, le=1, description="a share from 0 to 1 (0.05 is 5%)")]


def _required_names(name: str, keys: Sequence[str]) -> type[_Section]:
    """A mapping that must name exactly these keys (a logical name -> a source's name)."""
    return create_model(name, __base__=_Section, **{key: (Text, ...) for key in keys})  # type: ignore[call-overload]


class _Reporting(_Section):
    timezone: Annotated[Text, AfterValidator(_timezone)]
    languages: Annotated[list[Annotated[str, AfterValidator(_language)]],
                         Field(min_length=1, description="a non-empty list of languages, e.g. [en, ja]")]


class _ActionsRelation(_Section):
    mode: Annotated[Literal["link", "subtask"], Field(description="'link' or 'subtask'")]
    link_type: Text | None = None


class _JiraField(_Section):
    name: Text
    part: Annotated[Literal["parent", "child"], Field(description="'parent' or 'child'")] = "parent"
    pick: Annotated[Literal["first", "last"], Field(description="'first' or 'last'")] = "first"


def _jira_field(value: Any) -> Any:
    """``severity: Incident Level`` is short for ``severity: {name: Incident Level}``."""
    if isinstance(value, str):
        return {"name": value}
    if not isinstance(value, dict):
        raise ValueError(f"must be a Jira field name (or id), or a mapping {{name, part, pick}}, got {_short(value)}")
    return value


_JiraFieldValue = Annotated[_JiraField, BeforeValidator(_jira_field)]
_JiraFields = create_model(  # type: ignore[call-overload]
    "JiraFields", __base__=_Section,
    **{key: (_JiraFieldValue, ...) if key in JIRA_REQUIRED_FIELDS else (_JiraFieldValue | None, None)
       for key in JIRA_LOGICAL_FIELDS},
)


class _Jira(_Section):
    conn_id: Text
    fields: _JiraFields  # type: ignore[valid-type]
    cancelled_resolutions: Annotated[list[Text], Field(description="a list of Jira resolution names")] = []
    jql: _required_names("JiraJql", JIRA_STREAMS)  # type: ignore[valid-type]
    postmortem_link_type: Text
    actions_relation: _ActionsRelation
    release_projects: Annotated[list[Text], Field(description="a list of Jira project keys")]
    page_size: Annotated[int, Field(ge=1, le=5000, description="a whole number from 1 to 5000 (the search/jql "
                                                               "ceiling)")]
    lookback_minutes: Count
    sweep_days: Count


class _NotionProperty(_Section):
    """The long form of a property mapping: ``{name, part, pick}``."""

    name: Text
    part: Annotated[Literal["start", "end"], Field(description="'start' or 'end' (of a date range)")] | None = None
    pick: Annotated[Literal["first", "last"], Field(description="'first' or 'last'")] = "first"

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        if isinstance(value, str):  # `status: Status` is `{name: Status}`
            return {"name": value}
        if not isinstance(value, dict):
            raise ValueError(f"must be a property name or a mapping {{name, part, pick}}, got {_short(value)}")
        return value


def _property_names(name: str, keys: Sequence[str], required: Sequence[str]) -> type[_Section]:
    """Logical property -> a Notion property name, or ``{name, part, pick}``; ``required`` must be given."""
    return create_model(name, __base__=_Section,  # type: ignore[call-overload]
                        **{key: ((_NotionProperty, ...) if key in required else (_NotionProperty | None, None))
                           for key in keys})


class _RiskRecords(_Section):
    database_id: Text
    properties: _property_names("RiskProperties", RISK_PROPERTIES, RISK_REQUIRED)  # type: ignore[valid-type]
    closed_statuses: Annotated[list[Text], Field(min_length=1, description="a non-empty list of status names")]


class _ReleaseCalendar(_Section):
    database_id: Text
    properties: _property_names("ReleaseProperties", RELEASE_PROPERTIES,  # type: ignore[valid-type]
                                RELEASE_REQUIRED)


class _Notion(_Section):
    conn_id: Text
    risk_records: _RiskRecords
    release_calendar: _ReleaseCalendar
    lookback_minutes: Count


class _SlackMessages(_Section):
    status_board: _regex()  # type: ignore[valid-type]
    declared: _regex()  # type: ignore[valid-type]
    ended: _regex()  # type: ignore[valid-type]
    status_update: _regex()  # type: ignore[valid-type]


class _Slack(_Section):
    conn_id: Text
    incident_channel_pattern: _regex("number")  # type: ignore[valid-type]
    incident_key_prefix: Text
    release_channel: Text
    freeze_pattern: _regex()  # type: ignore[valid-type]
    resume_pattern: _regex()  # type: ignore[valid-type]
    product_pattern: _regex("product")  # type: ignore[valid-type]
    incident_pattern: _regex("incident")  # type: ignore[valid-type]
    messages: _SlackMessages
    rate_mode: Annotated[Literal["standard", "non_marketplace"], Field(description="'standard' or 'non_marketplace'")]
    lookback_days: Count
    resweep_days: Count


_Speedup = Annotated[float, Field(gt=0, description="a number > 0")]


class _PacingSpeedup(_Section):
    jira: _Speedup | None = None
    notion: _Speedup | None = None
    slack: _Speedup | None = None


class _Pacing(_Section):
    enabled: bool = False
    speedup: _PacingSpeedup = Field(default_factory=lambda: _PacingSpeedup())

    @field_validator("speedup", mode="before")
    @classmethod
    def _empty(cls, value: Any) -> Any:
        return {} if value is None else value  # `speedup:` with nothing after it


class _DuckDB(_Section):
    memory_limit: Annotated[str, StringConstraints(strip_whitespace=True, pattern=_MEMORY_LIMIT.pattern),
                            Field(description="a size such as 512MB or 2GB")] = DEFAULT_DUCKDB_MEMORY_LIMIT


class _Landing(_Section):
    max_record_bytes: Positive = DEFAULT_MAX_RECORD_BYTES
    max_deleted_share: Share = DEFAULT_MAX_DELETED_SHARE


class _Airflow(_Section):
    retries: Count = DEFAULT_TASK_RETRIES
    retry_delay_seconds: Count = DEFAULT_RETRY_DELAY_SECONDS


class _Chaser(_Section):
    heads_up_business_days: Count
    weekly_every_business_days: Positive
    escalation_after_business_days: Positive
    reliability_team_channel: Text
    jira_comments: bool
    dry_run: bool


class _People(_Section):
    match_by: Annotated[
        list[Literal["email", "display_name"]],
        Field(min_length=1, description="a non-empty list of email and display_name, each at most once "
                                        "(the order is the precedence)")] = list(PEOPLE_MATCH_BY)

    @field_validator("match_by")
    @classmethod
    def _once(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError(f"must name each way at most once, got {value!r}")
        return value


_QUALITY = QualitySettings()


class _Quality(_Section):
    freshness_max_hours: Annotated[float, Field(gt=0, description="a number of hours > 0")] = \
        _QUALITY.freshness_max_hours
    quarantine_max_share: Share = _QUALITY.quarantine_max_share
    risk_stale_after_days: Positive = _QUALITY.risk_stale_after_days
    max_volume_drop_share: Share = _QUALITY.max_volume_drop_share


class _ReleaseType(_Section):
    code: Text
    values: Annotated[list[Text], Field(min_length=1, description="a non-empty list of the source's values")] | None \
        = None
    version_pattern: _regex() | None = None  # type: ignore[valid-type]


def _unique_codes(entries: list[Any]) -> list[Any]:
    codes = [e.code for e in entries]
    twice = sorted({c for c in codes if codes.count(c) > 1})
    if twice:
        raise ValueError(f"must name each code once, got {', '.join(repr(c) for c in twice)} twice")
    return entries


def _unique_values(entries: list[Any]) -> list[Any]:
    """A source value (trimmed, case-insensitive, as SQL compares it) may mean one entry only."""
    seen: dict[str, str] = {}
    for entry in entries:
        for value in entry.values or [entry.code]:
            key = value.strip().casefold()
            if seen.setdefault(key, entry.code) != entry.code:
                raise ValueError(f"value {value!r} means both {seen[key]!r} and {entry.code!r}")
    return entries


class _Releases(_Section):
    shipped_by: Annotated[list[Literal[SHIPPED_SIGNALS]],  # type: ignore[valid-type]
                          Field(min_length=1, description="a non-empty list of jira_released, calendar_status, "
                                                          "date_passed")]
    shipped_statuses: list[Text] = Field(default_factory=list)

    @model_validator(mode="after")
    def _statuses_for_calendar(self) -> _Releases:
        if "calendar_status" in self.shipped_by and not self.shipped_statuses:
            raise ValueError("shipped_statuses is empty, so calendar_status in shipped_by would never ship a release")
        return self


_METRICS = MetricSettings()


class _Metrics(_Section):
    release_attribution_window_hours: Positive = _METRICS.release_attribution_window_hours
    default_postmortem_within_days: Positive = _METRICS.default_postmortem_within_days
    error_budget_at_risk_share: Share = _METRICS.error_budget_at_risk_share
    single_incident_budget_share_limit: Share = _METRICS.single_incident_budget_share_limit
    snapshot_grace_days: Count = _METRICS.snapshot_grace_days
    incremental_lookback_minutes: Count = _METRICS.incremental_lookback_minutes


# -- taxonomies and products ----------------------------------------------------------------------
# A source value is compared trimmed and case-insensitively (dbt: lower(trim(value))), so two entries
# claiming `P1` and `p1 ` would both claim one value: refused here, not resolved by join order in SQL.

OptionalText = Text | None


def _norm(value: str) -> str:
    return value.strip().lower()


class _TaxonomyEntry(_Section):
    code: Text
    values: Annotated[list[Text], Field(min_length=1, description="a non-empty list of source values")] | None = None
    name_ja: OptionalText = None
    definition_en: OptionalText = None
    definition_ja: OptionalText = None


class _Severity(_TaxonomyEntry):
    name_en: OptionalText = None
    response_mode_en: OptionalText = None
    response_mode_ja: OptionalText = None
    availability_impact_weight: Annotated[float, Field(ge=0, le=1, description="a weight from 0 to 1 (1.0 = a full "
                                                                               "outage)")]
    postmortem_required: bool
    freezes_releases: bool = False
    major: bool = False


class _DetectionRoute(_TaxonomyEntry):
    is_automated: bool = False


class _CauseCategory(_TaxonomyEntry):
    pass


class _DevelopmentCategory(_TaxonomyEntry):
    is_release: bool = False
    is_change: bool = True


def _unique_taxonomy(entries: list[Any]) -> list[Any]:
    """No code given twice, and no source value (trimmed, case-insensitive) claimed by two entries."""
    codes: dict[str, int] = {}
    claimed: dict[str, str] = {}
    for i, entry in enumerate(entries):
        if entry.code in codes:
            raise ValueError(f"code {entry.code!r} is given twice (entries {codes[entry.code]} and {i})")
        codes[entry.code] = i
        for value in entry.values or [entry.code]:
            owner = claimed.setdefault(_norm(value), entry.code)
            if owner != entry.code:
                raise ValueError(f"source value {value!r} is claimed by both {owner!r} and {entry.code!r}")
    return entries


def _taxonomy(entry: type[_TaxonomyEntry]) -> Any:
    return Annotated[list[entry], Field(min_length=1, description="a non-empty list of entries with a code"),  # type: ignore[valid-type]
                     AfterValidator(_unique_taxonomy)]


class _Taxonomies(_Section):
    severities: _taxonomy(_Severity)  # type: ignore[valid-type]
    detection_routes: _taxonomy(_DetectionRoute)  # type: ignore[valid-type]
    cause_categories: _taxonomy(_CauseCategory)  # type: ignore[valid-type]
    development_categories: _taxonomy(_DevelopmentCategory)  # type: ignore[valid-type]
    release_types: Annotated[list[_ReleaseType], AfterValidator(_unique_codes), AfterValidator(_unique_values)] = \
        Field(default_factory=list)


_Minutes = Annotated[float, Field(gt=0, description="a number of minutes > 0")]


class _Objectives(_Section):
    availability_target: Share
    mttr_target_minutes: _Minutes
    postmortem_within_days: Positive | None = None   # None = metrics default_postmortem_within_days
    postmortem_on_time_target: Share
    action_on_time_target: Share


class _Product(_Section):
    code: Text
    name: Text
    name_ja: OptionalText = None
    owning_team: OptionalText = None
    owning_team_ja: OptionalText = None
    jira_project_key: OptionalText = None
    slack_channel: OptionalText = None
    aliases: list[Text] = Field(default_factory=list)
    objectives: _Objectives | None = None

    def spellings(self) -> list[str]:
        """Every spelling a source may use for this product (dbt: int_product_aliases_unioned)."""
        named = [self.code, self.name, self.name_ja, self.jira_project_key, self.slack_channel, *self.aliases]
        return [s for s in named if s is not None]


def _unique_products(products: list[_Product]) -> list[_Product]:
    codes: dict[str, int] = {}
    claimed: dict[str, str] = {}
    for i, product in enumerate(products):
        if product.code in codes:
            raise ValueError(f"code {product.code!r} is given twice (entries {codes[product.code]} and {i})")
        codes[product.code] = i
        for spelling in product.spellings():
            owner = claimed.setdefault(_norm(spelling), product.code)
            if owner != product.code:
                raise ValueError(f"{spelling!r} names both products {owner!r} and {product.code!r} "
                                 "(codes, names, project keys, channels and aliases compare case-insensitively)")
    return products


class _Products(_Section):
    incidents_from: Annotated[Literal[PRODUCT_INCIDENT_SOURCES], Field(  # type: ignore[valid-type]
        description="'field' (jira.fields.product) or 'project' (the Jira project key)")]
    actions_from: Annotated[Literal[PRODUCT_ACTION_SOURCES], Field(  # type: ignore[valid-type]
        description="'project', 'field' or 'incident' (the product of the postmortem's incident)")]
    catalogue: Annotated[list[_Product], Field(min_length=1, description="a non-empty list of products with a code"),
                         AfterValidator(_unique_products)]


class _File(_Section):
    """The whole file. The sections with defaults may be left out, or left empty."""

    reporting: _Reporting
    jira: _Jira
    notion: _Notion
    slack: _Slack
    chaser: _Chaser
    taxonomies: _Taxonomies
    products: _Products
    pacing: _Pacing = Field(default_factory=lambda: _Pacing())
    duckdb: _DuckDB = Field(default_factory=lambda: _DuckDB())
    landing: _Landing = Field(default_factory=lambda: _Landing())
    quality: _Quality = Field(default_factory=lambda: _Quality())
    releases: _Releases
    metrics: _Metrics = Field(default_factory=lambda: _Metrics())
    people: _People = Field(default_factory=lambda: _People())
    airflow: _Airflow = Field(default_factory=lambda: _Airflow())

    @model_validator(mode="before")
    @classmethod
    def _empty_sections(cls, tree: Any) -> Any:
        if isinstance(tree, dict):  # `quality:` with every key commented out is an empty section
            optional = ("pacing", "duckdb", "landing", "quality", "metrics", "people", "airflow")
            return {k: v for k, v in tree.items() if not (v is None and k in optional)}
        return tree


# -- pydantic's errors as one line each ------------------------------------------------------------

_GENERIC = {
    "missing": "is missing",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "bool_type": "must be true or false",
    "string_type": "must be a string",
    "string_pattern_mismatch": "must not be empty",
    "list_type": "must be a list",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a mapping",
    "too_short": "must not be empty",
}


def _dotted(loc: Sequence[str | int]) -> str:
    key = ""
    for part in loc:
        # a list index; YAML 1.1 reads a key `on:` or `yes:` as the boolean, shown as written
        key += f"[{part}]" if type(part) is int else (f".{part}" if key else str(part))
    return key


def _walk(loc: Sequence[str | int]) -> tuple[Any, Any]:
    """The schema model holding the last key of ``loc``, and that key's field (None when unknown)."""
    model: Any = _File
    info = None
    for i, part in enumerate(loc):
        fields = getattr(model, "model_fields", None)
        if not isinstance(part, str) or fields is None or part not in fields:
            return (model if i == len(loc) - 1 else None), None
        info = fields[part]
        if i < len(loc) - 1:
            model = next((a for a in (info.annotation, *getattr(info.annotation, "__args__", ()))
                          if isinstance(a, type) and issubclass(a, BaseModel)), None)
    return model, info


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _line(error: Any) -> tuple[str, str]:
    loc = tuple(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        parent, _ = _walk(loc)
        known = list(getattr(parent, "model_fields", {}))
        hint = did_you_mean(str(loc[-1]), known) or (f" (expected {', '.join(known)})" if known else "")
        return _dotted(loc), f"is not a known key{hint}"
    if kind == "missing":
        return _dotted(loc), "is missing"
    if kind == "value_error":
        return _dotted(loc), str(error["ctx"]["error"])
    _, info = _walk(loc)
    if info is not None and info.description:
        problem = f"must be {info.description}"
    elif kind in _GENERIC:
        problem = _GENERIC[kind]
    elif kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        words = {"greater_than": "greater than", "greater_than_equal": "at least", "less_than": "less than",
                 "less_than_equal": "at most"}[kind]
        problem = f"must be {words} {next(iter(error['ctx'].values()))}"
    elif kind == "literal_error":
        problem = f"must be {error['ctx']['expected']}"
    else:
        problem = str(error["msg"]).lower()
    return _dotted(loc), f"{problem}, got {_short(error['input'])}"


def _validate(tree: Any) -> _File:
    try:
        return _File.model_validate(tree)
    except ValidationError as exc:
        errors = exc.errors()
        # an unknown key first: a misspelling (`ocurred_at`) also makes its right spelling missing
        errors.sort(key=lambda e: e["type"] != "extra_forbidden")
        problems = [_line(e) for e in errors]
        raise ConfigError(*problems[0], problems=problems) from None


def _notion_properties(section: Any) -> dict[str, NotionProperty]:
    """The mapped logical properties (left-out ones absent), each in the long form."""
    out = {}
    for logical, value in section.properties:
        if value is not None:
            out[logical] = NotionProperty(value.name, value.part, value.pick)
    return out


def _entries(entries: Sequence[BaseModel]) -> tuple[dict[str, Any], ...]:
    return tuple({**e.model_dump(), "values": list(e.values or [e.code])} for e in entries)  # type: ignore[attr-defined]


def _taxonomies(t: _Taxonomies) -> Taxonomies:
    return Taxonomies(**{name: _entries(getattr(t, name)) for name in TAXONOMY_NAMES})


def _products(p: _Products) -> Products:
    return Products(p.incidents_from, p.actions_from, tuple(product.model_dump() for product in p.catalogue))


def parse(tree: dict[str, Any], source_file: Path) -> Config:
    """Validate a loaded file's tree into :class:`Config`, or raise :class:`ConfigError` (one line)."""
    f = _validate(tree)
    relation = f.jira.actions_relation
    if relation.mode == "link" and relation.link_type is None:
        raise ConfigError("jira.actions_relation.link_type", "is missing (needed with mode 'link')")
    return Config(
        timezone=f.reporting.timezone,
        languages=tuple(f.reporting.languages),
        jira_conn_id=f.jira.conn_id,
        jira_fields={k: v.name for k, v in f.jira.fields if v is not None},
        jira_field_options={k: JiraFieldOptions(v.part, v.pick) for k, v in f.jira.fields if v is not None},
        jira_cancelled_resolutions=tuple(f.jira.cancelled_resolutions),
        jira_jql=dict(f.jira.jql),
        postmortem_link_type=f.jira.postmortem_link_type,
        actions_relation_mode=relation.mode,
        actions_link_type=relation.link_type if relation.mode == "link" else None,
        release_projects=tuple(f.jira.release_projects),
        jira_page_size=f.jira.page_size,
        jira_lookback_minutes=f.jira.lookback_minutes,
        jira_sweep_days=f.jira.sweep_days,
        notion_conn_id=f.notion.conn_id,
        risk_records=NotionDatabase(f.notion.risk_records.database_id, _notion_properties(f.notion.risk_records),
                                    tuple(f.notion.risk_records.closed_statuses)),
        release_calendar=NotionDatabase(f.notion.release_calendar.database_id,
                                        _notion_properties(f.notion.release_calendar)),
        notion_lookback_minutes=f.notion.lookback_minutes,
        slack_conn_id=f.slack.conn_id,
        incident_channel_pattern=re.compile(f.slack.incident_channel_pattern),
        incident_key_prefix=f.slack.incident_key_prefix,
        release_channel=f.slack.release_channel,
        freeze_pattern=re.compile(f.slack.freeze_pattern),
        resume_pattern=re.compile(f.slack.resume_pattern),
        product_pattern=re.compile(f.slack.product_pattern),
        incident_pattern=re.compile(f.slack.incident_pattern),
        message_patterns=SlackMessagePatterns(**{k: re.compile(v) for k, v in f.slack.messages}),
        slack_rate_mode=f.slack.rate_mode,
        slack_lookback_days=f.slack.lookback_days,
        slack_resweep_days=f.slack.resweep_days,
        chaser_heads_up_business_days=f.chaser.heads_up_business_days,
        chaser_weekly_every_business_days=f.chaser.weekly_every_business_days,
        chaser_escalation_after_business_days=f.chaser.escalation_after_business_days,
        chaser_team_channel=f.chaser.reliability_team_channel,
        chaser_jira_comments=f.chaser.jira_comments,
        chaser_dry_run=f.chaser.dry_run,
        source_file=source_file,
        taxonomies=_taxonomies(f.taxonomies),
        products=_products(f.products),
        max_record_bytes=f.landing.max_record_bytes,
        duckdb_memory_limit=f.duckdb.memory_limit,
        pacing=f.pacing.enabled,
        pacing_speedup={k: float(v) for k, v in f.pacing.speedup if v is not None},
        max_deleted_share=float(f.landing.max_deleted_share),
        quality=QualitySettings(**dict(f.quality)),
        release_types=tuple(ReleaseType(t.code, tuple(t.values or [t.code]), t.version_pattern)
                            for t in f.taxonomies.release_types),
        releases=ReleaseRules(tuple(f.releases.shipped_by), tuple(f.releases.shipped_statuses)),
        metrics=MetricSettings(**dict(f.metrics)),
        people_match_by=tuple(f.people.match_by),
        task_retries=f.airflow.retries,
        retry_delay_seconds=f.airflow.retry_delay_seconds,
    )


# -- the file --------------------------------------------------------------------------------------


class _KeyProblem(yaml.constructor.ConstructorError):
    """Well-formed YAML whose mapping keys are wrong for a configuration file."""


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, except that a key given twice in one mapping is an error (PyYAML keeps
    the last silently: a second ``quality:`` section would replace the first), and so is a key that
    is not text (YAML 1.1 reads an unquoted ``on``, ``off``, ``yes`` or ``no`` as a boolean)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[str, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            if not isinstance(key, str):
                raise _KeyProblem(None, None, f"key {key_node.value!r} is read as {type(key).__name__} "
                                  f"{key!r}, not a name: quote it", key_node.start_mark)
            if key in seen:
                raise _KeyProblem(None, None, f"key {key!r} is given twice (first on line {seen[key] + 1})",
                                  key_node.start_mark)
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def _yaml_problem(source: Path, exc: yaml.YAMLError) -> str:
    """``<file>:<line>:<column>: <what PyYAML found>`` in one line (PyYAML's own message spans four)."""
    mark = getattr(exc, "problem_mark", None)
    where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(source)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if isinstance(exc, _KeyProblem):
        return f"{where}: {problem}"
    context = getattr(exc, "context", None)
    context_mark = getattr(exc, "context_mark", None)
    # where an unclosed bracket or quote started helps; "while parsing a block mapping" names the
    # file's first line, which does not
    if (context and "block mapping" not in context and context_mark is not None and mark is not None
            and context_mark.line != mark.line):
        problem += f" ({context} started on line {context_mark.line + 1})"
    return f"{where}: not valid YAML: {problem}"


def load(path: Path | None = None) -> Config:
    """Load and validate the configuration file (``SHINRAI_CONFIG`` or ``config/shinrai.yaml``)."""
    source = Path(path) if path else paths().config_file
    try:
        tree = yaml.load(source.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 - a SafeLoader
    except FileNotFoundError as exc:
        raise ConfigError("(file)", f"{source} does not exist; set SHINRAI_CONFIG") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError("(file)", f"{source} cannot be read ({exc})") from None
    except yaml.YAMLError as exc:
        raise ConfigError("(file)", _yaml_problem(source, exc)) from None
    if not isinstance(tree, dict):
        raise ConfigError("(file)", f"{source} must hold a mapping at the top level")
    return parse(tree, source)
