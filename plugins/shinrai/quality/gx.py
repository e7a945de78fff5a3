"""Great Expectations 1.x, used as intended: a file context under ``gx/`` holding the datasources,
suites, validation definitions and checkpoints (committed), run against the landing files and the
warehouse of the current ``SHINRAI_HOME``.

Definitions are declared in code (:mod:`shinrai.quality.rules`) and written into the file context
by :func:`sync_definitions`; ``shinrai gx sync`` refreshes the committed files and a test checks
that they match. Each expectation carries GX's own ``severity``: a failed ``critical`` one blocks
publication, a ``warning`` alerts only.

Layout: one datasource per DuckDB entry point (``landing``: the three landing files;
``warehouse``: the warehouse with the landing files attached, as dbt sees it), one asset, suite
and validation definition per dataset, and one checkpoint per layer (``raw``, ``staging``,
``marts``) plus ``nightly`` with all of them. A checkpoint run runs its actions once, after every
validation definition: Data Docs are updated, then one Slack alert lists every failing rule of
the run (nothing is sent when everything passes).

Paths reach GX through config substitution (``${SHINRAI_HOME}``, ``${SHINRAI_WAREHOUSE}``,
``${SHINRAI_LANDING_DIR}``, ``${SHINRAI_QUALITY_SLACK_WEBHOOK}``): :func:`context` passes them as
GX's runtime environment, so validation results and Data Docs land under ``SHINRAI_HOME/quality``
and never in the repository.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from shinrai.quality.rules import CHECKPOINTS, DATASETS, INDEX_COLUMNS, VOLUME_DATASET, datasets_for
from shinrai.settings import SOURCES, Paths, paths

log = logging.getLogger(__name__)

BATCH = "whole_table"
SITE = "local_site"
WEBHOOK_VARIABLE = "SHINRAI_QUALITY_SLACK_WEBHOOK"
SAMPLE_SIZE = 20  # failing record keys kept per rule in the history table
TAXONOMY_SEEDS = {
    "severity_levels": "severity",
    "cause_categories": "cause_category",
    "development_categories": "development_category",
    "detection_routes": "detection_route",
}


def _quiet_gx() -> None:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    for name in ("great_expectations", "great_expectations._docs_decorators"):
        logging.getLogger(name).setLevel(logging.WARNING)


def runtime_environment(p: Paths | None = None) -> dict[str, str]:
    """The values GX substitutes into ``great_expectations.yml`` and the checkpoints."""
    p = p or paths()
    webhook = os.environ.get(WEBHOOK_VARIABLE, "")
    if webhook:
        _mask(webhook)
    return {
        "SHINRAI_HOME": str(p.home),
        "SHINRAI_WAREHOUSE": str(p.warehouse_file),
        "SHINRAI_LANDING_DIR": str(p.landing_dir),
        "SHINRAI_DUCKDB_MEMORY_LIMIT": _memory_limit(p),
        # empty = no alert is sent (shinrai.quality.slack.QualitySlackNotificationAction)
        WEBHOOK_VARIABLE: webhook,
    }


def _memory_limit(p: Paths) -> str:
    """``duckdb.memory_limit`` of the configuration (its default where the file has none)."""
    from shinrai import config as config_mod

    if not p.config_file.exists():  # as quality_settings: the checks run without one
        return config_mod.DEFAULT_DUCKDB_MEMORY_LIMIT
    return config_mod.load(p.config_file).duckdb_memory_limit


def _mask(secret: str) -> None:
    """The webhook URL is a credential (Slack's secret is its last path segment): register it with
    Airflow's secrets masker, so a task log shows it redacted even where a library logs the URL
    (urllib3 does, at DEBUG). Outside an Airflow task this changes nothing."""
    try:
        from airflow.sdk.log import mask_secret
    except ImportError:  # pragma: no cover - Airflow is a dependency; the CLI works without it anyway
        return
    mask_secret(secret)  # no name: a name masks only when it looks sensitive ("token", "secret", ...)


def context(p: Paths | None = None) -> Any:
    _quiet_gx()
    import great_expectations as gx

    # Registers the custom datasource and action types before the file context loads them.
    import shinrai.quality.datasource  # noqa: F401
    import shinrai.quality.docs  # noqa: F401
    import shinrai.quality.slack  # noqa: F401

    p = p or paths()
    return gx.get_context(
        mode="file", project_root_dir=str(p.gx_dir.parent), runtime_environment=runtime_environment(p)
    )


# -- definitions ---------------------------------------------------------------------------------

def _attach(landing_dir: str) -> dict[str, str]:
    return {source: f"{landing_dir}/{source}.duckdb" for source in SOURCES}


_MEMORY = "${SHINRAI_DUCKDB_MEMORY_LIMIT}"
DATASOURCES: dict[str, dict[str, Any]] = {
    "landing": {"database": ":memory:", "attach": _attach("${SHINRAI_LANDING_DIR}"), "memory_limit": _MEMORY},
    "warehouse": {"database": "${SHINRAI_WAREHOUSE}", "attach": _attach("${SHINRAI_LANDING_DIR}"),
                  "memory_limit": _MEMORY},
}
DATA_DOCS_SITES = {
    SITE: {
        # SiteBuilder plus vendored CDN assets, so the site renders offline (shinrai.quality.docs)
        "class_name": "OfflineSiteBuilder",
        "module_name": "shinrai.quality.docs",
        "show_how_to_buttons": False,
        "store_backend": {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": "${SHINRAI_HOME}/quality/data_docs/",
        },
        # GX's renderers with each rule's severity and the gate's decision (shinrai.quality.docs)
        "site_index_builder": {"class_name": "SeveritySiteIndexBuilder", "module_name": "shinrai.quality.docs"},
        "site_section_builders": {
            "validations": {
                "renderer": {"class_name": "SeverityValidationResultsPageRenderer",
                             "module_name": "shinrai.quality.docs"},
            },
            "expectations": {
                "renderer": {"class_name": "SeverityExpectationSuitePageRenderer",
                             "module_name": "shinrai.quality.docs"},
            },
        },
    }
}
RESULT_FORMAT = {
    "result_format": "COMPLETE",
    "unexpected_index_column_names": INDEX_COLUMNS,
    "partial_unexpected_count": SAMPLE_SIZE,
    "return_unexpected_index_query": False,
}


def _actions() -> list[Any]:
    from shinrai.quality.docs import BatchedUpdateDataDocsAction
    from shinrai.quality.slack import QualitySlackNotificationAction, QualitySlackRenderer

    return [
        BatchedUpdateDataDocsAction(name="update_data_docs", site_names=[SITE]),
        QualitySlackNotificationAction(
            name="slack_alert",
            slack_webhook="${" + WEBHOOK_VARIABLE + "}",
            notify_on="failure",
            show_failed_expectations=True,
            renderer=QualitySlackRenderer(),
        ),
    ]


def sync_definitions(ctx: Any) -> None:
    """Create or update the datasources, suites, validation definitions and checkpoints, and
    delete the ones no longer declared. Unchanged objects keep their ids."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    ctx.variables.analytics_enabled = False
    ctx.variables.data_docs_sites = DATA_DOCS_SITES
    ctx.variables.save()

    for name in list(ctx.checkpoints.all()):
        if name.name not in CHECKPOINTS:
            ctx.checkpoints.delete(name.name)
    for vd in list(ctx.validation_definitions.all()):
        if vd.name not in DATASETS:
            ctx.validation_definitions.delete(vd.name)
    for suite in list(ctx.suites.all()):
        if suite.name not in DATASETS:
            ctx.suites.delete(suite.name)
    for name, source in list(ctx.data_sources.all().items()):
        if name not in DATASOURCES or source.type != "shinrai_duckdb":
            ctx.data_sources.delete(name)

    for name, settings in DATASOURCES.items():
        current = ctx.data_sources.all().get(name)
        if current is None or _datasource_settings(current) != settings:
            ctx.data_sources.add_or_update_shinrai_duckdb(name, **settings)
    for dataset in DATASETS.values():
        source = ctx.data_sources.get(dataset.datasource)
        asset = next((a for a in source.assets if a.name == dataset.name), None)
        if asset is not None and asset.query.strip() != dataset.query.strip():
            source.delete_asset(dataset.name)
            asset = None
        asset = asset or source.add_duckdb_query_asset(dataset.name, query=dataset.query.strip() + "\n")
        batch = next((b for b in asset.batch_definitions if b.name == BATCH), None)
        batch = batch or asset.add_batch_definition_whole_table(BATCH)

        # (built whole: add_expectation on a suite named like a stored one writes to the store)
        suite = _add_or_update_suite(ctx, gx.ExpectationSuite(name=dataset.name, expectations=dataset.expectations()))
        vd = _existing(ctx.validation_definitions, dataset.name)
        if vd is None or vd.data.id != batch.id or vd.suite.id != suite.id:
            ctx.validation_definitions.add_or_update(
                gx.ValidationDefinition(name=dataset.name, data=batch, suite=suite)
            )
    for name in CHECKPOINTS:
        ctx.checkpoints.add_or_update(
            gx.Checkpoint(
                name=name,
                validation_definitions=[ctx.validation_definitions.get(d.name) for d in datasets_for(name)],
                result_format=RESULT_FORMAT,
                actions=_actions(),
            )
        )


def _datasource_settings(source: Any) -> dict[str, Any]:
    def raw(value: Any) -> str:
        return getattr(value, "template_str", None) or str(value)

    return {"database": raw(source.database), "attach": {k: raw(v) for k, v in source.attach.items()},
            "memory_limit": raw(source.memory_limit)}


def _existing(store: Any, name: str) -> Any:
    try:
        return store.get(name)
    except Exception:  # GX raises a store-specific "not found" error
        return None


def _add_or_update_suite(ctx: Any, suite: Any) -> Any:
    """Keep the stored suite (and its expectation ids) when its expectations are unchanged."""
    current = _existing(ctx.suites, suite.name)
    if current is not None and _expectation_configs(current) == _expectation_configs(suite):
        return current
    return ctx.suites.add_or_update(suite)


def _expectation_configs(suite: Any) -> list[dict]:
    out = []
    for e in suite.expectations:
        cfg = e.configuration.to_json_dict()
        cfg.pop("id", None)
        out.append(cfg)
    return out


# -- running -------------------------------------------------------------------------------------

@dataclass
class RuleResult:
    suite: str
    rule: str
    expectation_type: str
    column: str | None
    severity: str
    success: bool
    status: str  # passed | failed | error
    failing_count: int | None
    element_count: int | None
    observed_value: str | None
    sample_keys: list[str] = field(default_factory=list)  # at most SAMPLE_SIZE
    failing_keys: list[str] = field(default_factory=list)  # every failing record key
    samples: list[dict[str, Any]] = field(default_factory=list)  # key, url, note (at most SAMPLE_SIZE)


def blocks_publication(rule: RuleResult) -> bool:
    """The gate's one decision, per rule: a ``critical`` rule that failed (or errored) blocks
    publication of the marts; any other failure only alerts. The report, the history and the Data
    Docs all take the run's decision from here."""
    return not rule.success and rule.severity == "critical"


def gate_decision(checkpoint: str, run_results: Any) -> dict[str, Any]:
    """The gate's decision for one checkpoint run (GX's ``run_results``: identifier -> suite
    result), JSON-ready: what the Data Docs state on each page of the run (stored in each
    result's ``meta``, see :mod:`shinrai.quality.docs`)."""
    rules = [rule for validation in run_results.values() for rule in _rules(validation)]
    return {
        "checkpoint": checkpoint,
        "publishable": not any(blocks_publication(r) for r in rules),
        "critical_failures": [f"{r.suite}.{r.rule}" for r in rules if blocks_publication(r)],
        "warnings": [f"{r.suite}.{r.rule}" for r in rules if not r.success and not blocks_publication(r)],
    }


@dataclass
class QualityReport:
    checkpoint: str
    run_id: str
    validated_at: datetime
    success: bool  # no critical failure: the marts may be published
    rules: list[RuleResult]
    data_docs: str | None = None

    @property
    def critical_failures(self) -> list[RuleResult]:
        return [r for r in self.rules if blocks_publication(r)]

    @property
    def warnings(self) -> list[RuleResult]:
        return [r for r in self.rules if not r.success and not blocks_publication(r)]

    def rule(self, suite: str, rule: str) -> RuleResult:
        return next(r for r in self.rules if r.suite == suite and r.rule == rule)

    def summary(self) -> dict[str, Any]:
        """JSON-ready (an Airflow XCom): what publication and the DAG log need."""
        return {
            "checkpoint": self.checkpoint,
            "run_id": self.run_id,
            "validated_at": self.validated_at.isoformat(),
            "success": self.success,
            "publishable": self.success,
            "rules": len(self.rules),
            "critical_failures": [f"{r.suite}.{r.rule}" for r in self.critical_failures],
            "warnings": [f"{r.suite}.{r.rule}" for r in self.warnings],
            "failed": [
                {k: v for k, v in asdict(r).items() if k not in ("failing_keys", "samples")}
                for r in self.rules if not r.success
            ],
            "data_docs": self.data_docs,
        }


def quality_settings(p: Paths | None = None) -> dict[str, Any]:
    """The ``quality:`` section of the configuration (validated by :mod:`shinrai.config`), over
    the defaults; the defaults alone where there is no configuration file."""
    from shinrai import config as config_mod

    p = p or paths()
    if not p.config_file.exists():
        return asdict(config_mod.QualitySettings())
    return asdict(config_mod.load(p.config_file).quality)


def expectation_parameters(p: Paths | None = None) -> dict[str, Any]:
    """Run-time values of the ``$PARAMETER`` references: thresholds, and the taxonomies as the
    warehouse's seeds hold them (so the rule follows the seed, never a copy of it)."""
    p = p or paths()
    settings = quality_settings(p)
    params: dict[str, Any] = {
        "freshness_max_hours": float(settings["freshness_max_hours"]),
        "quarantine_max_share": float(settings["quarantine_max_share"]),
        "max_volume_drop_share": float(settings["max_volume_drop_share"]),
        # the same setting dbt reads for fct_risk_records.is_stale (var risk_stale_after_days)
        "risk_stale_after_days": int(settings["risk_stale_after_days"]),
    }
    params.update({seed: [] for seed in TAXONOMY_SEEDS})
    if p.warehouse_file.exists():
        with duckdb.connect(str(p.warehouse_file), read_only=True) as con:
            for seed, column in TAXONOMY_SEEDS.items():
                try:
                    params[seed] = [r[0] for r in con.execute(f"select {column} from seeds.{seed}").fetchall()]
                except duckdb.CatalogException:
                    log.warning("seed seeds.%s is not in the warehouse yet", seed)
    return params


def default_run_id(checkpoint: str) -> str:
    """The Airflow run when called from a task (Airflow exports its context), else a timestamp."""
    return os.environ.get("AIRFLOW_CTX_DAG_RUN_ID") or f"{checkpoint}-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}"


def run_gate(name: str, run_id: str | None = None, p: Paths | None = None,
             confirm_mass_deletion: bool = False) -> QualityReport:
    """Run one checkpoint (its actions update Data Docs and post the Slack alert), record every
    rule's outcome in the warehouse history, and return the report. Never raises on failures.

    A checkpoint with the volume rule first copies the live publication's figures into the
    warehouse (:mod:`shinrai.quality.volume`); ``confirm_mass_deletion`` makes a drop beyond the
    limit a warning for this run only (a confirmed real mass deletion), never a blocker."""
    from great_expectations.core.run_identifier import RunIdentifier

    from shinrai.quality import history, volume
    from shinrai.transform.dbt import ensure_landing_files

    p = p or paths()
    datasets = datasets_for(name)  # validates the name
    ensure_landing_files(p)  # a source never extracted still has (empty) tables to check
    ctx = context(p)
    validated_at = datetime.now(UTC)
    run_id = run_id or default_run_id(name)
    parameters = expectation_parameters(p)
    if VOLUME_DATASET in {d.name for d in datasets} and p.warehouse_file.exists():
        volume.write_baseline(p.warehouse_file, run_id, parameters["max_volume_drop_share"], confirm_mass_deletion)
    try:
        result = ctx.checkpoints.get(name).run(
            expectation_parameters=parameters,
            run_id=RunIdentifier(run_name=run_id, run_time=validated_at),
        )
    finally:  # the DuckDB connections the rules ran on (the history below writes the warehouse)
        close_datasources(ctx)
    rules = [rule for validation in result.run_results.values() for rule in _rules(validation)]
    report = QualityReport(
        checkpoint=name,
        run_id=run_id,
        validated_at=validated_at,
        success=not any(blocks_publication(r) for r in rules),
        rules=rules,
        data_docs=_data_docs_index(ctx),
    )
    history.record(p.warehouse_file, report)
    return report


def close_datasources(ctx: Any) -> None:
    """Close the DuckDB connection each datasource held for the run (shinrai.quality.datasource)."""
    for source in ctx.data_sources.all().values():
        close = getattr(source, "close", None)
        if close is not None:
            close()


def _data_docs_index(ctx: Any) -> str | None:
    for site in ctx.get_docs_sites_urls(site_names=[SITE], only_if_exists=True) or []:
        if site.get("site_url"):
            return str(site["site_url"])
    return None


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _rules(validation: Any) -> list[RuleResult]:
    out = []
    suite = validation.suite_name
    for item in validation.results:
        cfg = item.expectation_config
        result = item.result or {}
        errored = bool((item.exception_info or {}).get("raised_exception"))
        index_rows = failing_rows(result)
        keys = [str(r.get("record_key")) for r in index_rows]
        samples = [
            {c: (None if _is_missing(r.get(c)) else str(r.get(c))) for c in INDEX_COLUMNS}
            for r in index_rows[:SAMPLE_SIZE]
        ]
        kwargs = cfg.kwargs
        column = kwargs.get("column") or (
            f"{kwargs['column_A']},{kwargs['column_B']}" if "column_A" in kwargs else None
        )
        failing_count = result.get("unexpected_count")
        if failing_count is None and result.get("element_count") == 0 and not errored:
            failing_count = 0  # GX's SQL engine reports no count for an empty dataset; nothing failed
        observed = result.get("observed_value")
        if observed is None and result.get("element_count") is not None:
            observed = f"{failing_count} of {result['element_count']} rows unexpected"
        out.append(
            RuleResult(
                suite=suite,
                rule=(cfg.meta or {}).get("rule") or cfg.type,
                expectation_type=cfg.type,
                column=column,
                severity=getattr(cfg.severity, "value", str(cfg.severity)),
                success=bool(item.success) and not errored,
                status="error" if errored else ("passed" if item.success else "failed"),
                failing_count=failing_count,
                element_count=result.get("element_count"),
                observed_value=None if observed is None else json.dumps(_jsonable(observed), ensure_ascii=False),
                sample_keys=keys[:SAMPLE_SIZE],
                failing_keys=keys,
                samples=samples,
            )
        )
    return out


def failing_rows(result: dict) -> list[dict]:
    """The failing records GX reports for a rule (``unexpected_index_list``), in record-key order:
    a query's row order is DuckDB's choice (joins, parallel scans), so the samples kept in the
    history and shown in the alert are the first keys in key order, the same on every run."""
    rows = [r for r in (result.get("unexpected_index_list") or []) if isinstance(r, dict)]
    return sorted(rows, key=lambda r: (_is_missing(r.get("record_key")), str(r.get("record_key"))))


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def data_docs_dir(p: Paths | None = None) -> Path:
    return (p or paths()).home / "quality" / "data_docs"
