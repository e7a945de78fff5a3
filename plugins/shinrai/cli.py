"""Command line: ``shinrai demo``, ``shinrai sandbox serve``, ``shinrai gx sync``, ``shinrai publish``,
``shinrai report``, ``shinrai config check``.

Every command that uses the configuration validates it first, before it reads a source or writes a
file: a mistake is one line on stderr (``shinrai: config <key>: <problem>``) and exit code 2."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def _logging_to(path: Path) -> Iterator[None]:
    """This process's log records appended to ``path`` instead of the terminal, for the duration
    (importing Airflow sets a root handler on stdout)."""
    root = logging.getLogger()
    saved = root.handlers[:]
    handler = logging.FileHandler(path, encoding="utf-8")
    if saved:
        handler.setFormatter(saved[0].formatter)
    root.handlers = [handler]
    try:
        yield
    finally:
        root.handlers = saved
        handler.close()


def cmd_demo(ns: argparse.Namespace) -> int:
    """Start the sandbox, run the nightly DAG once under real Airflow, print where the data is.

    Airflow's and dbt's output goes, in full, to a log file under ``$SHINRAI_HOME/logs`` (named at
    the start and at the end); the terminal shows one line per task as it finishes, dbt's progress
    while it runs, then the marts' rows and where everything is."""
    from rich.console import Console
    from rich.table import Table

    from shinrai.airflow_env import airflow_env, sandbox_connections
    from shinrai.orchestration.progress import DagTestLog, Reporter, excerpt, log_path, run_logged
    from shinrai.orchestration.setup import airflow_executable
    from shinrai.sandbox import Sandbox
    from shinrai.sandbox.shapes import get_shape

    console = Console()

    def say(text: str, **kwargs) -> None:  # one path a line, never wrapped: people copy them
        console.print(text, soft_wrap=True, highlight=False, markup=False, **kwargs)

    shape = get_shape(ns.shape)
    if shape.config_path is not None and "SHINRAI_CONFIG" not in os.environ:
        os.environ["SHINRAI_CONFIG"] = str(shape.config_path)  # the shape's own mapping (unless told otherwise)
    p = paths()
    anchor = _anchor(ns)
    _claim_home(p.home, ns, anchor)
    log_file = log_path(p.home / "logs", "demo")
    tracker = DagTestLog()
    with Sandbox(seed=ns.seed, scale=ns.scale, anchor=anchor, shape=shape) as sb, \
            log_file.open("a", encoding="utf-8") as out:
        if shape.config_path is not None:
            say(f"{'shape':<15} {shape.name}, configured by {p.config_file}")
        say(f"{'sandbox':<15} Jira {sb.jira_url}  Notion {sb.notion_url}  Slack {sb.slack_url}")
        say(f"{'log':<15} {log_file}")
        env = airflow_env(p, sandbox_connections(sb.jira_url, sb.notion_url, sb.slack_url, sb.credentials))
        p.airflow_home.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        tail: deque[str] = deque(maxlen=200)
        if run_logged([airflow_executable(), "db", "migrate"], env, out, tail.append) != 0:
            say("airflow db migrate failed", style="bold red")
            for line in excerpt(tail):
                say(f"    {line}")
            say(f"{'log':<15} {log_file}")
            return 1
        say(f"{'airflow':<15} {'ready':<12} {time.monotonic() - started:6.1f}s  metadata database migrated (SQLite)")
        # --confirm-mass-deletion: the nightly param, for this run (a real mass deletion at the source)
        conf = ["--conf", '{"confirm_mass_deletion": true}'] if ns.confirm_mass_deletion else []
        tail.clear()

        def follow(line: str) -> None:
            tail.append(line)
            for event in tracker.feed(line):
                report(event)

        with Reporter(console) as report:
            code = run_logged([airflow_executable(), "dags", "test", "shinrai_nightly", *conf], env, out, follow)
        manifest = sb.manifest()
    if code != 0 or tracker.run_state != "success":
        final = {t.task_id: t.state for t in tracker.finished}  # a retried task's last try
        failed = [task for task, state in final.items() if state not in ("success", "skipped")]
        say(f"the nightly run failed{' at ' + ', '.join(failed) if failed else ''} "
            f"(airflow dags test exit code {code}); Airflow's and dbt's output is in the log", style="bold red")
        if not failed:  # it failed outside any task (the DAG did not load, the database...): say why
            for line in excerpt(tail):
                say(f"    {line}")
        say(f"{'log':<15} {log_file}")
        return 1
    from shinrai import pipeline
    from shinrai.publish import layout
    from shinrai.quality.gx import data_docs_dir

    os.environ["SHINRAI_HOME"] = str(p.home)
    counts = pipeline.warehouse_counts()
    expected = {"marts.fct_incidents": manifest["counts"]["jira.incidents"],
                "marts.fct_postmortems": manifest["counts"]["jira.postmortems"],
                "marts.fct_prevention_actions": manifest["counts"]["jira.actions"],
                "marts.fct_risk_records": manifest["counts"]["notion.risk_records"]}
    table = Table(title=f"marts ({len(counts)} tables)", title_justify="left")
    table.add_column("table")
    table.add_column("rows", justify="right")
    table.add_column("sandbox", justify="right")
    for name, n in expected.items():  # the tables the sandbox can vouch for; the others in one row
        table.add_row(name, str(counts.get(name, "missing")), str(n))
    others = [n for name, n in counts.items() if name not in expected]
    table.add_row(f"{len(others)} other tables", str(sum(others)), "")
    console.print(table)
    published = layout()
    where = {"warehouse": p.warehouse_file, "landing files": p.landing_dir,
             "Data Docs": data_docs_dir(p) / "index.html"}
    if published.duckdb_file.exists():
        where.update({"BI publication": published.duckdb_file, "Parquet": published.parquet_link,
                      "dbt docs": published.docs_dir / "index.html"})
        with _logging_to(log_file):
            where["monthly report"] = pipeline.build_report()
    where["log"] = log_file
    for name, path in where.items():
        say(f"{name:<15} {path}")
    if not published.duckdb_file.exists():
        say("nothing was published (see the check_quality task in the log)", style="red")
        return 1
    return 0 if all(counts.get(k) == v for k, v in expected.items()) else 1


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
    """``make airflow``: the sandbox plus ``airflow standalone`` pointed at it, until Ctrl-C."""
    from shinrai.orchestration.local import standalone

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


# Commands that run without the configuration (the sandbox serves its own organisation).
WITHOUT_CONFIG = (cmd_sandbox_serve, cmd_config_check)


# What `shinrai --help` says (plain text: argparse prints it as written).
DESCRIPTION = """The shinrai reliability pipeline: the demo against the built-in sandbox, the sandbox itself,
Great Expectations definitions, publication for BI, the monthly report, local Airflow, the benchmark
and the configuration check. Every command that uses the configuration validates it first: a mistake
is one line on stderr (shinrai: config <key>: <problem>) and exit code 2."""

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

    airflow_cmd = sub.add_parser("airflow", help="airflow standalone (UI, scheduler) against the sandbox; Ctrl-C stops")
    org_args(airflow_cmd, scale=AIRFLOW_SCALE)
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
