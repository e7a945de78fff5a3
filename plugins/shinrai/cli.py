"""Command line: ``shinrai demo``, ``shinrai run``, ``shinrai check``, ``shinrai sandbox serve``,
``shinrai gx sync``, ``shinrai publish``, ``shinrai report``, ``shinrai config check``.

Every command that uses the configuration validates it first, before it reads a source or writes a
file: a mistake is one line on stderr (``shinrai: config <key>: <problem>``) and exit code 2."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path

from shinrai.settings import paths


def _anchor(ns: argparse.Namespace) -> date:
    """The sandbox's anchor day; one line and exit 2 when it is not a day the sandbox can serve."""
    from shinrai.sandbox.org import REFERENCE_ANCHOR

    if ns.anchor == "today":
        from datetime import datetime

        from shinrai.sandbox.timefmt import JST

        day = datetime.now(JST).date()  # the sandbox organisation's own zone
    else:
        try:
            day = date.fromisoformat(ns.anchor)
        except ValueError:
            raise SystemExit(f"shinrai: --anchor {ns.anchor!r} is not a day (YYYY-MM-DD) or 'today'") from None
    if day < REFERENCE_ANCHOR:
        raise SystemExit(f"shinrai: --anchor {day.isoformat()} is before {REFERENCE_ANCHOR.isoformat()}: the "
                         "sandbox's history is generated up to that day and only grows after it")
    return day


def _claim_home(home: Path, ns: argparse.Namespace, anchor: date) -> None:
    """Start over (and say so) when the home holds another sandbox organisation or a later day of it."""
    from shinrai.sandbox.home import claim

    message = claim(home, ns.seed, ns.scale, anchor, getattr(ns, "shape", "default"))
    if message:
        print(message, flush=True)


def cmd_demo(ns: argparse.Namespace) -> int:
    """Start the sandbox, run the nightly DAG once under real Airflow, print where the data is.

    Airflow's and dbt's output goes, in full, to a log file under ``$SHINRAI_HOME/logs`` (named at
    the start and at the end); the terminal shows one line per task as it finishes, dbt's progress
    while it runs, then the marts' rows beside the sandbox's counts and where everything is
    (:mod:`shinrai.orchestration.once`, shared with ``shinrai run``)."""
    from rich.console import Console

    from shinrai.airflow_env import airflow_env, sandbox_connections
    from shinrai.orchestration.once import report_failure, run_nightly, say_plain, summarize
    from shinrai.orchestration.progress import log_path
    from shinrai.sandbox import Sandbox
    from shinrai.sandbox.shapes import get_shape

    console = Console()
    say = say_plain(console)
    shape = get_shape(ns.shape)
    if shape.config_path is not None and "SHINRAI_CONFIG" not in os.environ:
        os.environ["SHINRAI_CONFIG"] = str(shape.config_path)  # the shape's own mapping (unless told otherwise)
    p = paths()
    anchor = _anchor(ns)
    _claim_home(p.home, ns, anchor)
    log_file = log_path(p.home / "logs", "demo")
    with Sandbox(seed=ns.seed, scale=ns.scale, anchor=anchor, shape=shape) as sb:
        if shape.config_path is not None:
            say(f"{'shape':<15} {shape.name}, configured by {p.config_file}")
        say(f"{'sandbox':<15} Jira {sb.jira_url}  Notion {sb.notion_url}  Slack {sb.slack_url}")
        say(f"{'log':<15} {log_file}")
        env = airflow_env(p, sandbox_connections(sb.jira_url, sb.notion_url, sb.slack_url, sb.credentials))
        # --confirm-mass-deletion: the nightly param, for this run (a real mass deletion at the source)
        outcome = run_nightly(p, env, log_file, console,
                              {"confirm_mass_deletion": True} if ns.confirm_mass_deletion else None)
        manifest = sb.manifest()
    if not outcome.ok:
        report_failure(outcome, log_file, console)
        return 1
    expected = {"marts.fct_incidents": manifest["counts"]["jira.incidents"],
                "marts.fct_postmortems": manifest["counts"]["jira.postmortems"],
                "marts.fct_prevention_actions": manifest["counts"]["jira.actions"],
                "marts.fct_risk_records": manifest["counts"]["notion.risk_records"]}
    summary = summarize(p, log_file, console, expected, "sandbox")  # the tables the sandbox can vouch for
    if not summary.published:
        return 1
    return 0 if all(summary.counts.get(k) == v for k, v in expected.items()) else 1


def _refuse_sandbox_home(home: Path) -> None:
    """``shinrai run`` and ``shinrai airflow --sources configured`` never write a site's records into
    a home holding the sandbox's: the sandbox's would read as deleted (refused as a mass deletion)
    and the marts would mix two organisations."""
    from shinrai.sandbox.home import MARKER, recorded

    if (home / MARKER).exists():
        held = recorded(home)
        what = f"the sandbox organisation {held.describe()}" if held else "sandbox data"
        raise SystemExit(f"shinrai: {home} holds {what} (from shinrai demo or make airflow); your sources' "
                         f"data goes into a home of its own: set SHINRAI_HOME to another directory, or move "
                         f"this one aside (mv {home} {home}-sandbox)")


def _conn_ids() -> dict[str, str]:
    from shinrai.config import load

    cfg = load()
    return {"jira.conn_id": cfg.jira_conn_id, "notion.conn_id": cfg.notion_conn_id,
            "slack.conn_id": cfg.slack_conn_id}


def cmd_run(ns: argparse.Namespace) -> int:
    """Run the nightly DAG once under real Airflow against the configured sources (no sandbox):
    the configuration of ``SHINRAI_CONFIG`` (or config/shinrai.yaml), the connections of the
    environment (``AIRFLOW_CONN_*``) or of the local metadata database, the home ``SHINRAI_HOME``.
    A missing connection is one line naming it and its variable, before Airflow starts."""
    from rich.console import Console

    from shinrai.airflow_env import airflow_env
    from shinrai.orchestration.defaults import ALERTS_CONN_ID
    from shinrai.orchestration.once import (
        connection_problems,
        env_var,
        report_failure,
        run_nightly,
        say_plain,
        summarize,
    )
    from shinrai.orchestration.progress import log_path

    p = paths()
    _refuse_sandbox_home(p.home)
    env = airflow_env(p)
    problems = connection_problems(_conn_ids(), env, p.airflow_home / "airflow.db")
    for line in problems:
        print(f"shinrai: {line}", file=sys.stderr)
    if problems:
        return 2
    console = Console()
    say = say_plain(console)
    log_file = log_path(p.home / "logs", "run")
    say(f"{'config':<15} {p.config_file}")
    say(f"{'home':<15} {p.home}")
    if connection_problems({"alerts": ALERTS_CONN_ID}, env, p.airflow_home / "airflow.db"):
        say(f"{'alerts':<15} no {ALERTS_CONN_ID} connection ({env_var(ALERTS_CONN_ID)}): a failed task is "
            "not posted to Slack")
    say(f"{'log':<15} {log_file}")
    outcome = run_nightly(p, env, log_file, console,
                          {"confirm_mass_deletion": True} if ns.confirm_mass_deletion else None)
    if not outcome.ok:
        report_failure(outcome, log_file, console)
        return 1
    return 0 if summarize(p, log_file, console).published else 1


def cmd_sandbox_serve(ns: argparse.Namespace) -> int:
    from shinrai.sandbox.runner import serve

    serve(
        seed=ns.seed, scale=ns.scale, anchor=_anchor(ns), host=ns.host,
        jira_port=ns.jira_port, notion_port=ns.notion_port, slack_port=ns.slack_port, shape=ns.shape,
    )
    return 0


def cmd_gx_sync(ns: argparse.Namespace) -> int:
    from shinrai.quality import gx

    gx.sync_definitions(gx.context())
    print(f"Great Expectations definitions written under {paths().gx_dir}")
    return 0


def cmd_publish(ns: argparse.Namespace) -> int:
    """Publish the current warehouse's marts for BI (and the dbt docs page), atomically."""
    from shinrai import pipeline

    result = pipeline.publish(run_id=ns.run_id, docs=not ns.no_docs)
    print(f"publication {result['publication_id']}: {len(result['tables'])} tables, "
          f"{sum(result['tables'].values())} rows")
    print(f"  DuckDB   {result['duckdb_file']}")
    print(f"  Parquet  {result['parquet_dir']}")
    if result.get("docs"):
        print(f"  docs     {result['docs']}")
    return 0


def cmd_report(ns: argparse.Namespace) -> int:
    """Write the monthly reliability report for a month from the current publication."""
    from shinrai.publish.report import ReportError, build_report

    languages = tuple(x.strip() for x in ns.languages.split(",") if x.strip()) if ns.languages else None
    try:
        path = build_report(month=ns.month, out=Path(ns.out) if ns.out else None, languages=languages)
    except (ReportError, ValueError) as exc:
        print(f"shinrai report: {exc}", file=sys.stderr)
        return 2
    print(path)
    return 0


def cmd_airflow(ns: argparse.Namespace) -> int:
    """``make airflow``: ``airflow standalone`` against the sandbox (served in this process), or with
    ``--sources configured`` against the sources the configuration and connections name, until Ctrl-C."""
    from shinrai.orchestration.local import standalone, standalone_configured

    if ns.sources == "configured":
        home = paths().home
        _refuse_sandbox_home(home)
        return standalone_configured(_conn_ids(), port=ns.port)
    anchor = _anchor(ns)
    _claim_home(paths().home, ns, anchor)
    return standalone(seed=ns.seed, scale=ns.scale, anchor=anchor, port=ns.port)


def cmd_bench(ns: argparse.Namespace) -> int:
    """``make bench``: the sandbox at each scale, every figure of the benchmark, JSON and a table."""
    from pathlib import Path as _Path

    from shinrai.bench import Options, run
    from shinrai.bench.report import markdown, print_summary

    def scales(text: str) -> tuple[float, ...]:
        return tuple(float(x) for x in text.split(",") if x.strip())

    limited: dict[float, tuple[str, ...]] = {}
    for item in (x.strip() for x in ns.rate_limited.split(",") if x.strip()):
        source, _, scale = item.partition("@")
        limited[float(scale or 1)] = (*limited.get(float(scale or 1), ()), source)
    options = Options(scales=scales(ns.scales), rate_limited=limited,
                      out=_Path(ns.out), keep=ns.keep, query_repeat=ns.query_repeat, raw_budget_s=ns.raw_budget,
                      parse_repeat=ns.parse_repeat, docs=not ns.no_docs, side_by_side=not ns.no_side_by_side,
                      side_by_side_scale=ns.side_by_side_scale)
    if ns.work_dir:
        options.work_dir = _Path(ns.work_dir)
    results = run(options)
    print_summary(results)
    _Path(ns.out).with_suffix(".md").write_text(markdown(results) + "\n", encoding="utf-8")
    print(f"results: {ns.out} (README table: {_Path(ns.out).with_suffix('.md')})")
    return 0


def cmd_airflow_setup(ns: argparse.Namespace) -> int:
    """Migrate the metadata database and create the pools (compose's airflow-init runs this)."""
    from shinrai.orchestration.local import setup_command

    return setup_command(local=ns.local or not os.environ.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"))


def cmd_config_check(ns: argparse.Namespace) -> int:
    """Validate the configuration file: ``OK`` and its path, or every mistake, one line each."""
    from shinrai.config import ConfigError, load

    source = Path(ns.file) if ns.file else paths().config_file
    try:
        load(source)
    except ConfigError as exc:
        for key, problem in exc.problems:
            print(f"shinrai: config {key}: {problem}", file=sys.stderr)
        return 2
    print(f"config OK: {source}")
    return 0


def cmd_check(ns: argparse.Namespace) -> int:
    """The configuration against the live sites, read-only: one line per problem, then what a first
    full load reads; exit 1 when any problem is an error (2: the file itself is wrong)."""
    from shinrai.onboard.check import SOURCES, run

    return run(tuple(ns.source) if ns.source else SOURCES, as_json=ns.json)


# Commands that run without the configuration (the sandbox serves its own organisation; check
# reports a configuration mistake itself, so that --json stays one document).
WITHOUT_CONFIG = (cmd_sandbox_serve, cmd_config_check, cmd_check)


# What `shinrai --help` says (plain text: argparse prints it as written).
DESCRIPTION = """The shinrai reliability pipeline: the demo against the built-in sandbox, a run against your
own sources, the check of your configuration against your live sites, the sandbox itself, Great
Expectations definitions, publication for BI, the monthly report, local Airflow, the benchmark and the
configuration check. Every command that uses the configuration validates it first: a mistake is one
line on stderr (shinrai: config <key>: <problem>) and exit code 2."""

# `make airflow`'s sandbox scale (the Makefile passes none unless SANDBOX_SCALE is set): a quarter
# of the demo's organisation, so the UI's first runs take a minute or two
AIRFLOW_SCALE = 0.25
SHAPE_NAMES = ("default", "kaisha", "multi")  # shinrai.sandbox.shapes.SHAPES (not imported: the CLI starts light)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("shinrai")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shinrai", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    def org_args(p: argparse.ArgumentParser, scale: float = 1.0) -> None:
        p.add_argument("--seed", type=int, default=7, help="sandbox organisation seed (default %(default)s)")
        p.add_argument("--scale", type=float, default=scale, help="sandbox scale factor (default %(default)s)")
        p.add_argument("--anchor", default="today",
                       help="the day sandbox history ends (YYYY-MM-DD, 2026-11-01 or later; default: today in "
                            "the sandbox organisation's time zone, so the last closed month has data and "
                            "reminders fall due around now). "
                            "A later day is the same organisation moved on: it keeps every earlier record")

    demo = sub.add_parser("demo", help="run the nightly job once against the built-in sandbox")
    org_args(demo)
    demo.add_argument("--shape", default="default", choices=SHAPE_NAMES,
                      help="the sandbox organisation in another representation, mapped by "
                           "plugins/shinrai/sandbox/shapes/<shape>.yaml (unless SHINRAI_CONFIG is set)")
    demo.add_argument("--confirm-mass-deletion", action="store_true",
                      help="let this run mark more than landing.max_deleted_share of a stream deleted "
                           "(records really deleted at the source; refused otherwise)")
    demo.set_defaults(func=cmd_demo)

    run = sub.add_parser("run", help="run the nightly job once against your own Jira, Notion and Slack (the "
                                     "configuration and the Airflow connections; no sandbox)",
                         description="Run the nightly DAG once under real Airflow (airflow dags test) against the "
                                     "sources the configuration (SHINRAI_CONFIG or config/shinrai.yaml) and the "
                                     "Airflow connections (AIRFLOW_CONN_SHINRAI_JIRA, _NOTION, _SLACK, or the local "
                                     "metadata database) name, into SHINRAI_HOME. One line per task; Airflow's and "
                                     "dbt's output in the log file it names.")
    run.add_argument("--confirm-mass-deletion", action="store_true",
                     help="let this run mark more than landing.max_deleted_share of a stream deleted "
                          "(records really deleted at the source; refused otherwise)")
    run.set_defaults(func=cmd_run)

    sandbox = sub.add_parser("sandbox", help="the built-in fake Jira/Notion/Slack")
    sandbox_sub = sandbox.add_subparsers(dest="sandbox_command", required=True)
    serve = sandbox_sub.add_parser("serve", help="serve the sandbox until interrupted")
    org_args(serve)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--jira-port", type=int, default=18081)
    serve.add_argument("--notion-port", type=int, default=18082)
    serve.add_argument("--slack-port", type=int, default=18083)
    serve.add_argument("--shape", default="default", choices=SHAPE_NAMES,
                       help="the same organisation in another representation; its config is "
                            "plugins/shinrai/sandbox/shapes/<shape>.yaml (default %(default)s)")
    serve.set_defaults(func=cmd_sandbox_serve)

    gx_cmd = sub.add_parser("gx", help="Great Expectations definitions")
    gx_sub = gx_cmd.add_subparsers(dest="gx_command", required=True)
    sync = gx_sub.add_parser("sync", help="write suites, validation definitions and checkpoints to gx/")
    sync.set_defaults(func=cmd_gx_sync)

    publish = sub.add_parser("publish", help="publish the marts for BI (read-only DuckDB file, Parquet, dbt docs)")
    publish.add_argument("--run-id", default=None, help="source run id recorded in the publication")
    publish.add_argument("--no-docs", action="store_true", help="skip dbt docs generation")
    publish.set_defaults(func=cmd_publish)

    report = sub.add_parser("report", help="write the monthly reliability report (self-contained HTML)")
    report.add_argument("--month", default=None,
                        help="YYYY-MM (default: the last closed month of the current publication)")
    report.add_argument("--out", default=None, help="output file (default <publish>/reports/reliability-<month>.html)")
    report.add_argument("--languages", default=None,
                        help="comma-separated, e.g. en,ja or ja (default: config reporting.languages)")
    report.set_defaults(func=cmd_report)

    airflow_cmd = sub.add_parser("airflow", help="airflow standalone (UI, scheduler) against the sandbox, or your "
                                                  "configured sources with --sources configured; Ctrl-C stops")
    org_args(airflow_cmd, scale=AIRFLOW_SCALE)
    airflow_cmd.add_argument("--sources", choices=("sandbox", "configured"), default="sandbox",
                             help="sandbox (default): the built-in sandbox, served in this process, with the "
                                  "organisation options above; configured: no sandbox, the connections of the "
                                  "environment (AIRFLOW_CONN_*) or of the metadata database and the configuration "
                                  "(SHINRAI_CONFIG or config/shinrai.yaml)")
    airflow_cmd.add_argument("--port", type=int, default=8080, help="API server and UI port (default 8080)")
    airflow_cmd.set_defaults(func=cmd_airflow)
    setup_cmd = sub.add_parser("airflow-setup", help="migrate the Airflow metadata DB and create shinrai's pools")
    setup_cmd.add_argument("--local", action="store_true",
                           help="the local SQLite Airflow under SHINRAI_HOME (default: the Airflow the environment "
                                "configures, or the local one when AIRFLOW__DATABASE__SQL_ALCHEMY_CONN is unset)")
    setup_cmd.set_defaults(func=cmd_airflow_setup)
    bench = sub.add_parser("bench", help="the benchmark: sandbox at 1x, 10x, 100x; JSON results and a table")
    bench.add_argument("--scales", default="1,10,100", help="sandbox scales (default 1,10,100)")
    bench.add_argument("--rate-limited", default="slack@1,jira@10,notion@10",
                       help="sources and scales of the rate-limited runs (default slack@1,jira@10,notion@10)")
    bench.add_argument("--out", default=str(Path(__file__).resolve().parents[2] / "bench" / "results" / "latest.json"))
    bench.add_argument("--work-dir", default=None, help="scratch directory (default $SHINRAI_HOME/bench)")
    bench.add_argument("--keep", action="store_true", help="keep each scale's landing files, warehouse, publication")
    bench.add_argument("--query-repeat", type=int, default=20, help="runs of each BI query (default 20)")
    bench.add_argument("--raw-budget", type=float, default=240.0, help="seconds for the from-raw queries")
    bench.add_argument("--parse-repeat", type=int, default=3, help="parses of each DAG file (default 3)")
    bench.add_argument("--no-docs", action="store_true", help="publish without the dbt docs page")
    bench.add_argument("--side-by-side-scale", type=float, default=None,
                       help="scale of the Jira incidents side by side (ours, dlt rest_api, HTTP+JSON floor); "
                            "one of --scales (default the largest)")
    bench.add_argument("--no-side-by-side", action="store_true", help="skip the Jira side-by-side run")
    bench.set_defaults(func=cmd_bench)
    config_cmd = sub.add_parser("config", help="the configuration file (config/shinrai.yaml or SHINRAI_CONFIG)")
    config_sub = config_cmd.add_subparsers(dest="config_command", required=True)
    check = config_sub.add_parser("check", help="validate it: OK, or every mistake one line each naming the key")
    check.add_argument("file", nargs="?", default=None,
                       help="the file (default: SHINRAI_CONFIG or config/shinrai.yaml)")
    check.set_defaults(func=cmd_config_check)
    site_check = sub.add_parser("check", help="check the configuration against your live Jira, Notion and Slack "
                                "(read-only): one line per problem, then what a first full load reads")
    site_check.add_argument("--json", action="store_true", help="one JSON document instead of lines and a table")
    site_check.add_argument("--source", action="append", choices=("jira", "notion", "slack"),
                            help="check only this source (repeatable; default all three)")
    site_check.set_defaults(func=cmd_check)
    return parser


def anticipated() -> dict[type[BaseException], int]:
    """The errors a command can meet in ordinary use, each with its exit code: their messages say
    what happened and what to do, so they are printed as one line on stderr, without a traceback
    (a traceback is for the errors nobody anticipated). A configuration mistake exits 2; a DuckDB
    file held by another process and a source that stays unavailable exit 1 (rerun later)."""
    from shinrai.config import ConfigError
    from shinrai.duckdb_lock import FileInUse
    from shinrai.hooks.retry import SourceUnavailable

    return {ConfigError: 2, FileInUse: 1, SourceUnavailable: 1}


def main(argv: list[str] | None = None) -> int:
    """Run a command; the configuration is validated before it touches a source or a file, and an
    anticipated error (:func:`anticipated`) found at any point is one line on stderr, no traceback."""
    from shinrai.config import load

    ns = build_parser().parse_args(argv)
    codes = anticipated()
    try:
        if ns.func not in WITHOUT_CONFIG:
            load()
        return int(ns.func(ns))
    except tuple(codes) as exc:
        print(f"shinrai: {exc}", file=sys.stderr)
        return next(code for kind, code in codes.items() if isinstance(exc, kind))


if __name__ == "__main__":
    sys.exit(main())
