"""What one read-only probe of a source reports to ``shinrai check``.

Each source's probe (``onboard/jira.py``, ``onboard/notion.py``, ``onboard/slack.py``) is a function
``probe(config, hook) -> SourceReport``; it never writes to the source. ``onboard/check.py`` runs the
probes, prints one line per finding (naming the config key and the fix) and a summary table of the
counts, and exits non-zero when any finding is an error."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Level = Literal["error", "warning", "info"]


@dataclass(frozen=True)
class Finding:
    source: str  # "jira" | "notion" | "slack" | "config"
    key: str  # the config key (``jira.fields.severity``) or the Airflow connection (``connection shinrai_jira``)
    problem: str  # one line: what is wrong, with the value seen
    fix: str  # one line: what to change
    level: Level = "error"

    def line(self) -> str:
        return f"{self.level:<7} {self.key}: {self.problem} -> {self.fix}"


@dataclass(frozen=True)
class StreamCount:
    """How much a first full load of one stream will read, and how long it takes paced."""

    source: str
    stream: str  # "incidents", "postmortems", "actions", "risk_records", "releases", "channels", ...
    records: int | None  # None when the source cannot count it cheaply
    requests: int  # requests a first full load needs (pages, detail calls)
    seconds_paced: float  # under the published rate limits, with pacing on


@dataclass
class SourceReport:
    source: str
    findings: list[Finding] = field(default_factory=list)
    counts: list[StreamCount] = field(default_factory=list)
    samples: dict[str, str] = field(default_factory=dict)  # config key -> a sample value read, shown to the user

    @property
    def ok(self) -> bool:
        return not any(f.level == "error" for f in self.findings)
