"""Run dbt against the warehouse with every path taken from shinrai's settings.

dbt runs as a subprocess of the same virtual environment: its global logging and adapter state
stay out of the Airflow task process, and the exit code is the contract. Its output is logged a
line at a time as dbt prints it (never buffered and replayed at the end).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from shinrai import config as config_mod
from shinrai.duckdb_lock import ensure_free
from shinrai.load.landing import LandingStore
from shinrai.settings import SOURCE_STREAMS, SOURCES, Paths, paths

log = logging.getLogger(__name__)


class DbtFailed(RuntimeError):
    pass


# dbt commands that accept --vars (clean, deps, debug and init do not).
# dbt's text log starts every line with its clock ("03:07:02  1 of 271 START ..."); Airflow's has one.
_DBT_CLOCK = re.compile(r"^\d\d:\d\d:\d\d  ")

VARS_COMMANDS = frozenset({"build", "run", "test", "seed", "snapshot", "compile", "parse", "show", "list", "ls",
                           "docs", "source", "run-operation"})


def dbt_vars(cfg: config_mod.Config, project_dir: Path | None = None) -> dict[str, Any]:
    """Every var dbt reads, from the configuration: dbt_project.yml holds no defaults (one home per
    setting), so a var missing here fails dbt's compilation naming it ("Required var ... not found")
    instead of silently taking a stale copy. ``code_digest`` is derived, not set: the digest of the
    dbt project (``project_dir``, default the configured one) and of the other vars (:func:`code_digest`)."""
    config_vars = _config_vars(cfg)
    return {**config_vars, "code_digest": _digest(project_dir or paths().dbt_project_dir, config_vars)}


def _config_vars(cfg: config_mod.Config) -> dict[str, Any]:
    metrics = cfg.metrics
    return {
        "reporting_timezone": cfg.timezone,
        # "today" for every as-of figure; null = the current date in the reporting time zone
        # (tests, backfills and the chaser pin it through extra_vars)
        "as_of_date": None,
        "jira_postmortem_link_type": cfg.postmortem_link_type,
        "jira_actions_relation_mode": cfg.actions_relation_mode,
        "jira_actions_link_type": cfg.actions_link_type,  # null with mode subtask
        "jira_cancelled_resolutions": list(cfg.jira_cancelled_resolutions),
        "slack_incident_channel_pattern": cfg.incident_channel_pattern.pattern,
        "slack_incident_key_prefix": cfg.incident_key_prefix,
        "slack_release_channel": cfg.release_channel,
        "slack_freeze_pattern": cfg.freeze_pattern.pattern,
        "slack_resume_pattern": cfg.resume_pattern.pattern,
        "slack_product_pattern": cfg.product_pattern.pattern,
        "slack_incident_pattern": cfg.incident_pattern.pattern,
        "slack_status_board_pattern": cfg.message_patterns.status_board.pattern,
        "slack_declared_pattern": cfg.message_patterns.declared.pattern,
        "slack_ended_pattern": cfg.message_patterns.ended.pattern,
        "slack_status_update_pattern": cfg.message_patterns.status_update.pattern,
        "people_match_by": list(cfg.people_match_by),
        "reminder_heads_up_business_days": cfg.chaser_heads_up_business_days,
        "reminder_weekly_every_business_days": cfg.chaser_weekly_every_business_days,
        "reminder_escalation_after_business_days": cfg.chaser_escalation_after_business_days,
        "reliability_team_channel": cfg.chaser_team_channel,
        "risk_stale_after_days": cfg.quality.risk_stale_after_days,
        "release_attribution_window_hours": metrics.release_attribution_window_hours,
        "default_postmortem_within_days": metrics.default_postmortem_within_days,
        "error_budget_at_risk_share": metrics.error_budget_at_risk_share,
        "single_incident_budget_share_limit": metrics.single_incident_budget_share_limit,
        "snapshot_grace_days": metrics.snapshot_grace_days,
        "incremental_lookback_minutes": metrics.incremental_lookback_minutes,
        # taxonomies.release_types, in order (the first matching version_pattern wins)
        "release_types": [{"code": t.code, "values": list(t.values), "version_pattern": t.version_pattern}
                          for t in cfg.release_types],
        "releases_shipped_by": list(cfg.releases.shipped_by),
        "releases_shipped_statuses": list(cfg.releases.shipped_statuses),
        "risk_closed_statuses": list(cfg.risk_records.closed_statuses),
        **taxonomy_vars(cfg),
    }


def _rows(entries: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Taxonomy entries for dbt: ``values`` renamed ``source_values`` (VALUES is an SQL keyword)."""
    return [{("source_values" if k == "values" else k): v for k, v in e.items()} for e in entries]


def taxonomy_vars(cfg: config_mod.Config) -> dict[str, Any]:
    """``taxonomies.*`` and ``products.*`` as dbt vars; models/staging/config renders them as tables."""
    catalogue = [{**{k: v for k, v in p.items() if k != "objectives"}, **(p["objectives"] or {}),
                  "has_objectives": p["objectives"] is not None} for p in cfg.products.catalogue]
    return {
        **{f"taxonomy_{name}": _rows(getattr(cfg.taxonomies, name)) for name in config_mod.TAXONOMY_NAMES},
        "products_incidents_from": cfg.products.incidents_from,
        "products_actions_from": cfg.products.actions_from,
        "products_catalogue": catalogue,
    }


def dbt_env(p: Paths | None = None) -> dict[str, str]:
    p = p or paths()
    cfg = config_mod.load(p.config_file)
    env = dict(os.environ)
    env.update(
        {
            "SHINRAI_WAREHOUSE": str(p.warehouse_file),
            "SHINRAI_LANDING_DIR": str(p.landing_dir),
            "SHINRAI_DUCKDB_MEMORY_LIMIT": cfg.duckdb_memory_limit,
            "DBT_TARGET_PATH": str(p.home / "dbt" / "target"),
            "DBT_LOG_PATH": str(p.home / "dbt" / "logs"),
            "DBT_USE_COLORS": "false",
            "DBT_PROFILES_DIR": str(p.dbt_project_dir),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }
    )
    return env


def ensure_landing_files(p: Paths | None = None) -> None:
    """dbt attaches every landing file read-only; create empty ones for sources not yet extracted."""
    p = p or paths()
    for source in SOURCES:
        with LandingStore(p.landing_file(source), source) as store:
            for stream in SOURCE_STREAMS[source]:
                store.ensure_stream(stream)
            store.ensure_reference_tables()


def dbt_executable() -> str:
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def run_dbt(args: Sequence[str], p: Paths | None = None, extra_vars: Mapping[str, Any] | None = None) -> str:
    """Run ``dbt <args>`` in the project; raise DbtFailed with dbt's output tail on failure.

    Commands that take vars get the configuration's (:func:`dbt_vars`) merged with ``extra_vars``
    (for example ``{"as_of_date": "2026-03-31"}`` to pin "today" in a backfill).
    """
    p = p or paths()
    p.warehouse_file.parent.mkdir(parents=True, exist_ok=True)
    ensure_landing_files(p)  # each opened for writing: FileInUse if another process holds one
    ensure_free(p.warehouse_file)  # dbt would fail the same way, with the cause at the end of a traceback
    cmd = [dbt_executable(), *args, "--project-dir", str(p.dbt_project_dir)]
    if args and args[0] in VARS_COMMANDS and "--vars" not in args:
        merged = {**dbt_vars(config_mod.load(p.config_file), p.dbt_project_dir), **(extra_vars or {})}
        if extra_vars and set(extra_vars) - {"as_of_date", "code_digest"}:
            # a var set for this run only is part of what the facts are computed from
            merged["code_digest"] = _digest(p.dbt_project_dir, {k: v for k, v in merged.items() if k != "code_digest"})
        cmd += ["--vars", json.dumps(merged, ensure_ascii=False)]
    log.info("running %s", " ".join(cmd))
    lines: list[str] = []
    # streamed, a log line per dbt line as dbt prints it (progress is visible while dbt runs, and
    # `shinrai demo` counts the nodes done); dbt's own clock prefix dropped: the log has one
    with subprocess.Popen(cmd, env=dbt_env(p), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          bufsize=1) as proc:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = _DBT_CLOCK.sub("", raw.rstrip("\n"), count=1)
            lines.append(line)
            log.info("dbt | %s", line)
    output = "\n".join(lines)
    if proc.returncode != 0:
        tail = "\n".join(lines[-40:])
        # dbt follows a missing var with every var it was given: the line naming it would scroll
        # out of the tail, so it comes first
        missing = next((line.strip() for line in lines if "Required var" in line), None)
        cause = f"{missing} (dbt vars come from config/shinrai.yaml through shinrai.transform.dbt.dbt_vars)\n" \
            if missing else ""
        raise DbtFailed(f"dbt {' '.join(args)} failed with exit code {proc.returncode}:\n{cause}{tail}")
    return output


# what a build's code is: the dbt project's files that shape the SQL and the seeds (target/, logs/
# and docs are not code)
_CODE_DIRS = ("models", "macros", "seeds", "tests", "snapshots", "analyses")
_CODE_FILES = ("dbt_project.yml", "profiles.yml", "packages.yml")


def code_digest(p: Paths | None = None) -> str:
    """A digest of the dbt project's code and seeds and of every var but "today" (the configuration
    as dbt sees it). Equal digests: the SQL and the configuration a build ran with are the same, so
    what only they decide (seeds, the config tables, the tests on them) is as the last build left it,
    and an incremental fact's row built from the same inputs is the same row (var code_digest)."""
    p = p or paths()
    return str(dbt_vars(config_mod.load(p.config_file), p.dbt_project_dir)["code_digest"])


def _digest(root: Path, config_vars: Mapping[str, Any]) -> str:
    digest = hashlib.sha256()
    files = [root / name for name in _CODE_FILES if (root / name).exists()]
    for d in _CODE_DIRS:
        if (root / d).is_dir():
            files += [f for f in (root / d).rglob("*") if f.is_file()]
    for f in sorted(files):
        digest.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes() + b"\0")
    varying = {k: v for k, v in config_vars.items() if k != "as_of_date"}
    digest.update(json.dumps(varying, sort_keys=True, ensure_ascii=False, default=str).encode())
    return digest.hexdigest()[:32]


def code_only_nodes(manifest_file: Path) -> list[str]:
    """What only guards or only renders the code, from a manifest of the same code (selection names):

    * seeds and models that read no source and no "today" (the seeds, the tables rendered from the
      configuration, what is derived from those alone), with the tests on them alone: with the code
      and the configuration unchanged they are what the last build left;
    * the data tests on intermediate views (keys a join produces): they check the SQL, and each
      recomputes its view whole (at 10x the heaviest tests of a night); the same data is tested
      nightly where it comes in (the sources' and staging tables' tests) and where it goes out (the
      marts' keys, contracts and tests).

    Empty when the manifest is missing or unreadable (then everything runs)."""
    try:
        manifest = json.loads(manifest_file.read_text())
    except (OSError, ValueError):
        return []
    nodes = manifest.get("nodes", {})
    built = {uid: n for uid, n in nodes.items() if n.get("resource_type") in ("model", "seed")}
    pure: dict[str, bool] = {}

    def is_pure(uid: str) -> bool:
        if uid not in pure:
            node = built.get(uid)
            pure[uid] = False  # dbt's graph is acyclic; this only bounds the recursion
            pure[uid] = bool(node) and "as_of" not in (node.get("raw_code") or "") and all(
                parent in built and is_pure(parent) for parent in node.get("depends_on", {}).get("nodes", []))
        return pure[uid]

    def guards_code(uid: str) -> bool:
        node = built.get(uid)
        return bool(node) and (is_pure(uid) or (
            node.get("original_file_path", "").startswith("models/intermediate/")
            and node.get("config", {}).get("materialized") == "view"))

    names = [built[uid]["name"] for uid in built if is_pure(uid)]
    names += [n["name"] for n in nodes.values() if n.get("resource_type") == "test"
              and n.get("depends_on", {}).get("nodes")
              and all(guards_code(parent) for parent in n["depends_on"]["nodes"])]
    return sorted(names)


def build(
    select: Sequence[str] = (),
    full_refresh: bool = False,
    p: Paths | None = None,
    as_of_date: str | None = None,
    extra_vars: Mapping[str, Any] | None = None,
    skip_code_only: bool = False,
) -> str:
    """``dbt build``. ``as_of_date`` (YYYY-MM-DD) pins "today" for overdue flags, reminders and
    month closing (backfills pass their logical date); None means today in the reporting zone.
    Month-end snapshots are never rebuilt by ``full_refresh`` (they are configured full_refresh: false).

    dbt's unit tests are left out: they check the SQL against hand-made fixtures under the shipped
    configuration (``make test`` runs them, :func:`unit_tests`), while a site's build runs with its own
    configuration (other taxonomies, product sources), under which a fixture's expectation need not
    hold; the data tests still run on every build.

    ``skip_code_only``: the code and configuration are those of the last successful build (see
    :func:`code_digest`), so the nodes that only they decide (:func:`code_only_nodes`) are left as
    that build left them, with the tests that read only them (dbt's cautious indirect selection keeps
    a test that also reads a data model, e.g. a fact's relationship to a config table)."""
    p = p or paths()
    args = ["build", "--exclude-resource-type", "unit_test"]
    if select:
        args += ["--select", *select]
    skipped = code_only_nodes(p.home / "dbt" / "target" / "manifest.json") if skip_code_only and not full_refresh \
        else []
    if skipped:
        args += ["--exclude", *skipped, "--indirect-selection", "cautious"]
    if full_refresh:
        args.append("--full-refresh")
    merged = dict(extra_vars or {})
    if as_of_date is not None:
        merged["as_of_date"] = as_of_date
    return run_dbt(args, p, merged)


def unit_tests(p: Paths | None = None, select: Sequence[str] = ("test_type:unit",)) -> str:
    """dbt's unit tests (hand-made fixtures, expectations computed by hand), with the configuration's
    vars; the models they read must have been built once (dbt reads their columns)."""
    return run_dbt(["test", "--select", *select], p)
