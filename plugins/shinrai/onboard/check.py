"""``shinrai check``: the configuration against the live sites, read-only, before a first run.

Loads and validates the configuration, builds the pipeline's own hooks from the Airflow connections
it names (``AIRFLOW_CONN_*``, or Airflow's metadata database), runs each source's probe
(``shinrai.onboard.<source>.probe(config, hook) -> SourceReport``) and prints one line per finding
(level, config key, problem -> fix), the values it read, then what a first full load reads and how
long it takes at least under the published rate limits with pacing on. ``--json``: one document.
Exit 0 when no finding is an error, 1 otherwise, 2 when the configuration file itself is wrong (as
every other command: its mistakes are the findings, one line each).
"""

from __future__ import annotations

import importlib
import json
import logging
import sys
from dataclasses import asdict
from typing import Any, TextIO

from shinrai.config import Config, ConfigError
from shinrai.hooks.retry import RetryPolicy
from shinrai.onboard.findings import Finding, SourceReport, StreamCount
from shinrai.settings import paths

SOURCES = ("jira", "notion", "slack")
# A person is waiting: a failing request is retried once, briefly, not for minutes as in a run.
CHECK_POLICY = RetryPolicy(max_attempts=2, initial_backoff_s=0.5, max_backoff_s=2.0, max_retry_after_s=10.0)


def _hook(config: Config, source: str) -> tuple[str, Any]:
    """The pipeline's hook for ``source`` on the connection the configuration names."""
    if source == "jira":
        from shinrai.hooks.jira import JiraHook

        return config.jira_conn_id, JiraHook(jira_conn_id=config.jira_conn_id)
    if source == "notion":
        from shinrai.hooks.notion import NotionHook

        return config.notion_conn_id, NotionHook(notion_conn_id=config.notion_conn_id)
    from shinrai.hooks.slack import SlackHook

    return config.slack_conn_id, SlackHook(slack_conn_id=config.slack_conn_id)


def _missing_connection(hook: Any, conn_id: str) -> str | None:
    """Why the connection cannot be used (None when Airflow has it)."""
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        hook.get_connection(conn_id)
    except AirflowNotFoundException:
        return f"the Airflow connection {conn_id!r} is not defined"
    return None


def probe_source(config: Config, source: str) -> SourceReport:
    """One source's report: a missing connection, a probe not in this build, or what the probe says."""
    conn_id, hook = _hook(config, source)
    key = f"connection {conn_id}"
    missing = _missing_connection(hook, conn_id)
    if missing:
        env = f"AIRFLOW_CONN_{conn_id.upper()}"
        return SourceReport(source, [Finding(source, key, missing, f"set {env} (README 'Write the connections'), "
                                             f"or `airflow connections add {conn_id}`")])
    try:
        module = importlib.import_module(f"shinrai.onboard.{source}")
    except ModuleNotFoundError as exc:
        if exc.name != f"shinrai.onboard.{source}":
            raise
        return SourceReport(source, [Finding(source, key, "probe not available in this build",
                                             "nothing to do: the connection is only checked when the pipeline runs",
                                             "info")])
    if hasattr(hook, "retry_policy"):
        hook.retry_policy = CHECK_POLICY
    from shinrai.hooks.retry import SourceUnavailable

    try:
        return module.probe(config, hook)
    except SourceUnavailable as exc:  # a probe that let the source's failure through: still one line
        return SourceReport(source, [Finding(source, key, str(exc), f"check the Airflow connection {conn_id!r}")])


def run(sources: tuple[str, ...] = SOURCES, as_json: bool = False, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    # a retried request is the finding's own business: no retry warnings between the lines
    logging.getLogger("shinrai.hooks.retry").setLevel(logging.ERROR)
    from shinrai import config as config_mod

    try:
        config = config_mod.load()
    except ConfigError as exc:
        where = paths().config_file
        reports = [SourceReport("config", [
            Finding("config", key, problem, f"fix it in {where}" if where.exists() else
                    "point SHINRAI_CONFIG at your configuration file (a copy of config/shinrai.yaml)")
            for key, problem in exc.problems])]
        code = 2
    else:
        reports = [probe_source(config, source) for source in sources]
        code = 0 if all(r.ok for r in reports) else 1
    if as_json:
        print(json.dumps(document(reports), ensure_ascii=False, indent=2), file=out)
    else:
        _print(reports, out)
    return code


def totals(reports: list[SourceReport]) -> dict[str, Any]:
    counts = [c for r in reports for c in r.counts]
    return {"records": sum(c.records or 0 for c in counts), "requests": sum(c.requests for c in counts),
            # streams one after another: the nightly run overlaps the sources, so this is an upper bound
            # of the pacing floor (each source's own rows add up: its streams share its rate limits)
            "seconds_paced": round(sum(c.seconds_paced for c in counts), 1)}


def document(reports: list[SourceReport]) -> dict[str, Any]:
    findings = [f for r in reports for f in r.findings]
    return {
        "ok": all(r.ok for r in reports),
        "errors": sum(f.level == "error" for f in findings),
        "warnings": sum(f.level == "warning" for f in findings),
        "findings": [asdict(f) for f in findings],
        "samples": {r.source: r.samples for r in reports if r.samples},
        "counts": [{**asdict(c), "seconds_paced": round(c.seconds_paced, 1)} for r in reports for c in r.counts],
        "total": totals(reports),
    }


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, sec = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{sec:02d}s"


def _print(reports: list[SourceReport], out: TextIO) -> None:
    from rich.console import Console
    from rich.table import Table

    # what was read, then the problems (errors first), one plain line each: never wrapped, people
    # grep and copy them
    for r in reports:
        for key, sample in r.samples.items():
            print(f"{'read':<7} {key}: {sample}", file=out)
    order = {"error": 0, "warning": 1, "info": 2}
    findings = sorted((f for r in reports for f in r.findings), key=lambda f: order[f.level])
    for f in findings:
        print(f.line(), file=out)
    counts: list[StreamCount] = [c for r in reports for c in r.counts]
    if counts:
        console = Console(file=out, width=100, highlight=False, soft_wrap=False)
        table = Table(title="what a first full load reads", title_justify="left")
        for name, justify in (("source", "left"), ("stream", "left"), ("records", "right"), ("requests", "right"),
                              ("paced", "right")):
            table.add_column(name, justify=justify)  # type: ignore[arg-type]
        for c in counts:
            table.add_row(c.source, c.stream, "?" if c.records is None else f"{c.records:,}", f"{c.requests:,}",
                          _duration(c.seconds_paced))
        total = totals(reports)
        table.add_section()
        table.add_row("total", "", f"{total['records']:,}", f"{total['requests']:,}", _duration(total["seconds_paced"]))
        console.print(table)
        print("paced: the least time it takes under the published rate limits, pacing on (answers take "
              "time on top)", file=out)
    errors = sum(f.level == "error" for f in findings)
    warnings = sum(f.level == "warning" for f in findings)
    checked = ", ".join(r.source for r in reports)
    verdict = "OK" if not errors else "FAILED"
    print(f"{verdict}: {errors} error(s), {warnings} warning(s) ({checked})", file=out)
