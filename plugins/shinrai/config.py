"""The one YAML configuration file: how a company's Jira, Notion and Slack map onto our model.

Loading validates the file's shape (every required key present, regexes compile, the time zone
exists). Names that can only be checked against a live source (a Jira field name, a Notion
property) are resolved by the extractors, which raise :class:`ConfigError` naming the key.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

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
# A landed record's JSON payload above this many bytes is quarantined instead (landing.max_record_bytes).
DEFAULT_MAX_RECORD_BYTES = 4 * 1024 * 1024
# DuckDB's memory limit in every pipeline step (duckdb.memory_limit); DuckDB's own default is 80% of RAM.
DEFAULT_DUCKDB_MEMORY_LIMIT = "512MB"
_MEMORY_LIMIT = re.compile(r"^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)


# landing.max_deleted_share: above this share of a stream, a deletion sweep is refused.
DEFAULT_MAX_DELETED_SHARE = 0.05


@dataclass(frozen=True)
class QualitySettings:
    """The ``quality:`` section: thresholds of the Great Expectations rules."""

    freshness_max_hours: float = 26.0
    quarantine_max_share: float = 0.05
    # open risks reviewed within this many days; None = the dbt var ``risk_stale_after_days``
    risk_stale_after_days: int | None = None
    # critical: a mart's rows, or a product's incidents, dropping by more than this share against
    # the live publication blocks publication
    max_volume_drop_share: float = 0.2


class ConfigError(ValueError):
    """A configuration value is missing, malformed, or does not resolve against the source."""

    def __init__(self, key: str, problem: str):
        self.key = key
        super().__init__(f"config {key}: {problem}")


def did_you_mean(name: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.5)
    return f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""


@dataclass(frozen=True)
class NotionDatabase:
    database_id: str
    properties: dict[str, str]


@dataclass(frozen=True)
class Config:
    timezone: str
    languages: tuple[str, ...]
    jira_conn_id: str
    jira_fields: dict[str, str]
    jira_jql: dict[str, str]
    postmortem_link_type: str
    actions_relation_mode: str
    actions_link_type: str | None
    release_projects: tuple[str, ...]
    jira_page_size: int
    jira_lookback_minutes: int
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
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES
    # duckdb.memory_limit: the buffer pool of each step's DuckDB (landing, dbt, quality checks)
    duckdb_memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT
    # pacing.enabled: pace requests to each API's published rate limit (shinrai.extract.pacing);
    # pacing.speedup: per source, pace to limits compressed that many times (benchmarks only)
    pacing: bool = False
    pacing_speedup: dict[str, float] = field(default_factory=dict)
    # landing.max_deleted_share: a deletion sweep that would mark more than this share of a
    # stream's live records deleted marks nothing and fails the stream (confirm a real one per run)
    max_deleted_share: float = DEFAULT_MAX_DELETED_SHARE
    # quality.*: the thresholds of the Great Expectations rules (shinrai.quality)
    quality: QualitySettings = field(default_factory=lambda: QualitySettings())


def _get(tree: dict[str, Any], dotted: str) -> Any:
    node: Any = tree
    walked = []
    for part in dotted.split("."):
        walked.append(part)
        if not isinstance(node, dict) or part not in node:
            raise ConfigError(".".join(walked), "is missing")
        node = node[part]
    return node


def _str(tree: dict[str, Any], dotted: str) -> str:
    value = _get(tree, dotted)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(dotted, f"must be a non-empty string, got {value!r}")
    return value


def _int(tree: dict[str, Any], dotted: str, minimum: int = 0) -> int:
    value = _get(tree, dotted)
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ConfigError(dotted, f"must be an integer >= {minimum}, got {value!r}")
    return value


def _bool(tree: dict[str, Any], dotted: str) -> bool:
    value = _get(tree, dotted)
    if not isinstance(value, bool):
        raise ConfigError(dotted, f"must be true or false, got {value!r}")
    return value


def _regex(tree: dict[str, Any], dotted: str) -> re.Pattern[str]:
    value = _str(tree, dotted)
    try:
        return re.compile(value)
    except re.error as exc:
        raise ConfigError(dotted, f"is not a valid regular expression ({exc})") from exc


def _mapping(tree: dict[str, Any], dotted: str, required: tuple[str, ...]) -> dict[str, str]:
    value = _get(tree, dotted)
    if not isinstance(value, dict):
        raise ConfigError(dotted, "must be a mapping")
    for key in required:
        _str(tree, f"{dotted}.{key}")
    return {str(k): str(v) for k, v in value.items()}


def _notion_db(tree: dict[str, Any], dotted: str, required: tuple[str, ...]) -> NotionDatabase:
    return NotionDatabase(
        database_id=_str(tree, f"{dotted}.database_id"),
        properties=_mapping(tree, f"{dotted}.properties", required),
    )


def parse(tree: dict[str, Any], source_file: Path) -> Config:
    tz = _str(tree, "reporting.timezone")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError("reporting.timezone", f"{tz!r} is not an IANA time zone") from exc
    mode = _str(tree, "jira.actions_relation.mode")
    if mode not in ("link", "subtask"):
        raise ConfigError("jira.actions_relation.mode", f"must be 'link' or 'subtask', got {mode!r}")
    rate_mode = _str(tree, "slack.rate_mode")
    if rate_mode not in ("standard", "non_marketplace"):
        raise ConfigError("slack.rate_mode", f"must be 'standard' or 'non_marketplace', got {rate_mode!r}")
    page_size = _int(tree, "jira.page_size", minimum=1)
    if page_size > 5000:
        raise ConfigError("jira.page_size", "must be at most 5000 (the search/jql ceiling)")
    projects = _get(tree, "jira.release_projects")
    if not isinstance(projects, list) or not all(isinstance(p, str) for p in projects):
        raise ConfigError("jira.release_projects", "must be a list of Jira project keys")
    return Config(
        timezone=tz,
        languages=tuple(_get(tree, "reporting.languages")),
        jira_conn_id=_str(tree, "jira.conn_id"),
        jira_fields=_mapping(tree, "jira.fields", JIRA_LOGICAL_FIELDS),
        jira_jql=_mapping(tree, "jira.jql", JIRA_STREAMS),
        postmortem_link_type=_str(tree, "jira.postmortem_link_type"),
        actions_relation_mode=mode,
        actions_link_type=_str(tree, "jira.actions_relation.link_type") if mode == "link" else None,
        release_projects=tuple(projects),
        jira_page_size=page_size,
        jira_lookback_minutes=_int(tree, "jira.lookback_minutes"),
        notion_conn_id=_str(tree, "notion.conn_id"),
        risk_records=_notion_db(tree, "notion.risk_records", RISK_PROPERTIES),
        release_calendar=_notion_db(tree, "notion.release_calendar", RELEASE_PROPERTIES),
        notion_lookback_minutes=_int(tree, "notion.lookback_minutes"),
        slack_conn_id=_str(tree, "slack.conn_id"),
        incident_channel_pattern=_regex(tree, "slack.incident_channel_pattern"),
        incident_key_prefix=_str(tree, "slack.incident_key_prefix"),
        release_channel=_str(tree, "slack.release_channel"),
        freeze_pattern=_regex(tree, "slack.freeze_pattern"),
        resume_pattern=_regex(tree, "slack.resume_pattern"),
        product_pattern=_regex(tree, "slack.product_pattern"),
        incident_pattern=_regex(tree, "slack.incident_pattern"),
        slack_rate_mode=rate_mode,
        slack_lookback_days=_int(tree, "slack.lookback_days"),
        slack_resweep_days=_int(tree, "slack.resweep_days"),
        chaser_heads_up_business_days=_int(tree, "chaser.heads_up_business_days"),
        chaser_weekly_every_business_days=_int(tree, "chaser.weekly_every_business_days", minimum=1),
        chaser_escalation_after_business_days=_int(tree, "chaser.escalation_after_business_days", minimum=1),
        chaser_team_channel=_str(tree, "chaser.reliability_team_channel"),
        chaser_jira_comments=_bool(tree, "chaser.jira_comments"),
        chaser_dry_run=_bool(tree, "chaser.dry_run"),
        source_file=source_file,
        max_record_bytes=(_int(tree, "landing.max_record_bytes", minimum=1) if "landing" in tree
                          else DEFAULT_MAX_RECORD_BYTES),
        duckdb_memory_limit=_memory_limit(tree),
        **_pacing(tree),
        max_deleted_share=_share(tree, "landing.max_deleted_share", DEFAULT_MAX_DELETED_SHARE),
        quality=_quality(tree),
    )


def _optional(tree: dict[str, Any], dotted: str) -> bool:
    section, _, key = dotted.rpartition(".")
    node = tree.get(section) if section else tree
    return not isinstance(node, dict) or key not in node


def _share(tree: dict[str, Any], dotted: str, default: float) -> float:
    """An optional share (a number from 0 to 1)."""
    if _optional(tree, dotted):
        return default
    value = _get(tree, dotted)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ConfigError(dotted, f"must be a number from 0 to 1, got {value!r}")
    return float(value)


def _quality(tree: dict[str, Any]) -> QualitySettings:
    base = QualitySettings()
    hours: Any = base.freshness_max_hours
    if not _optional(tree, "quality.freshness_max_hours"):
        hours = _get(tree, "quality.freshness_max_hours")
        if isinstance(hours, bool) or not isinstance(hours, int | float) or hours <= 0:
            raise ConfigError("quality.freshness_max_hours", f"must be a number of hours > 0, got {hours!r}")
    stale = None if _optional(tree, "quality.risk_stale_after_days") else _int(
        tree, "quality.risk_stale_after_days", minimum=1)
    return QualitySettings(
        freshness_max_hours=float(hours),
        quarantine_max_share=_share(tree, "quality.quarantine_max_share", base.quarantine_max_share),
        risk_stale_after_days=stale,
        max_volume_drop_share=_share(tree, "quality.max_volume_drop_share", base.max_volume_drop_share),
    )


def _memory_limit(tree: dict[str, Any]) -> str:
    if "duckdb" not in tree:
        return DEFAULT_DUCKDB_MEMORY_LIMIT
    value = _str(tree, "duckdb.memory_limit").strip()
    if not _MEMORY_LIMIT.match(value):
        raise ConfigError("duckdb.memory_limit", f"must be a size such as 512MB or 2GB, got {value!r}")
    return value


def _pacing(tree: dict[str, Any]) -> dict[str, Any]:
    if "pacing" not in tree:
        return {}
    speedup = tree["pacing"].get("speedup") or {} if isinstance(tree["pacing"], dict) else None
    if not isinstance(speedup, dict) or any(
            k not in ("jira", "notion", "slack") or isinstance(v, bool) or not isinstance(v, int | float) or v <= 0
            for k, v in speedup.items()):
        raise ConfigError("pacing.speedup", f"must map jira/notion/slack to numbers > 0, got {speedup!r}")
    return {"pacing": _bool(tree, "pacing.enabled"), "pacing_speedup": {k: float(v) for k, v in speedup.items()}}


def load(path: Path | None = None) -> Config:
    """Load and validate the configuration file (``SHINRAI_CONFIG`` or ``config/shinrai.yaml``)."""
    source = Path(path) if path else paths().config_file
    try:
        tree = yaml.safe_load(source.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError("(file)", f"{source} does not exist; set SHINRAI_CONFIG") from exc
    except yaml.YAMLError as exc:
        raise ConfigError("(file)", f"{source} is not valid YAML: {exc}") from exc
    if not isinstance(tree, dict):
        raise ConfigError("(file)", f"{source} must hold a mapping at the top level")
    return parse(tree, source)
