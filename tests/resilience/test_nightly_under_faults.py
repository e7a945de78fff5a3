"""Resilience: two nights of the whole pipeline against a hostile sandbox, then what must hold.

Night 1 runs every step the nightly and chaser DAGs run, in their order (extract the three sources,
``dbt build``, the GX ``nightly`` checkpoint with Data Docs and its Slack alert, publish, the monthly
report, the chase preview and a real chase) against a sandbox whose credentials are recognisable
fake tokens, that serves 100 KB Japanese/emoji texts and records past the configured size limit,
and that injects faults on the way: a wrong Jira token first, 5xx bursts, timeouts, a 5xx while
reminders are sent, and a second process holding the warehouse while publish is retried. Night 2
is a full refresh while every source also serves malformed records, with a second writer on the
Jira landing file during its extraction and on the warehouse during ``dbt build`` (each step is
rerun once it has gone); too many records are quarantined, the quality gate fails, and publishing
is refused. It all runs once for the module (scale 0.05, two dbt builds: the expensive part is
shared); each test checks one fault's outcome.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import subprocess
import sys
import traceback
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from shinrai import pipeline
from shinrai.duckdb_lock import FileInUse
from shinrai.hooks.retry import SourceUnavailable
from shinrai.publish import layout
from shinrai.publish.publication import PublishError
from shinrai.sandbox import Faults, Sandbox
from shinrai.sandbox.canaries import canary_credentials, leak_forms
from shinrai.settings import PROJECT_ROOT, SOURCES, paths

from ._support import hook_env, landed, pointed_at, query, write_config

# one worker runs the whole module under pytest-xdist (--dist loadgroup): its fixture is the cost
pytestmark = pytest.mark.xdist_group("resilience-nightly-under-faults")

SCALE = 0.05
LARGE_TEXT_BYTES = 100 * 1024
MAX_RECORD_BYTES = 1024 * 1024  # landing.max_record_bytes for this module (the shipped default is 4 MiB)
NIGHT_1, NIGHT_2 = date(2026, 11, 24), date(2026, 11, 25)  # business days after the sandbox anchor
CANARIES = canary_credentials("resilience")
WEBHOOK_SECRET = "CANARYwebhook4e8b2a6c0d"
WRONG_JIRA_TOKEN = canary_credentials("wrong")["jira"]["token"]


@dataclass
class Nights:
    """What the two nights left (JSON-able)."""

    home: str
    manifest: dict
    planted_texts: dict[str, str]  # key -> text of every planted large and oversized record
    posted: list[dict]  # every message the sandbox Slack received (alerts, reminders)
    log_lines: list[str]
    output: str  # stdout and stderr of every step
    night1_quality: dict
    publication: dict
    report: str
    chase_sent: dict
    published_tree: dict[str, str]  # after night 1
    night2_failure: dict  # the QualityGateFailed summary
    publish_refusal: str
    writers: dict[str, dict]  # step -> SecondWriter fields
    errors: list[str]  # expected failures on the way (their messages)

    def planted(self, kind: str, source: str) -> tuple[str, str]:
        """(key, text) of a planted text record."""
        key = next(d["key"] for d in self.manifest["defects"] if d["kind"] == kind and d["source"] == source)
        return key, self.planted_texts[key]


class Collect(logging.Handler):
    """Every log record, formatted with its arguments and traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # a record whose arguments do not format: keep both
            message = f"{record.msg!r} % {record.args!r}"
        self.lines.append(f"{record.levelname} {record.name}: {message}")
        if record.exc_info:
            self.lines.append("".join(traceback.format_exception(*record.exc_info)))


@contextlib.contextmanager
def everything_logged() -> Iterator[Collect]:
    """shinrai's own loggers at every level; the libraries at INFO, the level Airflow task logs keep
    (urllib3 logs request lines at DEBUG, and an incoming-webhook URL is its own credential)."""
    root, ours = logging.getLogger(), logging.getLogger("shinrai")
    handler, levels = Collect(), (root.level, ours.level)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    ours.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(levels[0])
        ours.setLevel(levels[1])


def tree_digest(root: Path) -> dict[str, str]:
    """Every file (sha256) and symlink (its target) under ``root``, but the publisher's lock file."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if path.is_symlink():
            out[rel] = "-> " + os.readlink(path)
        elif path.is_file() and not path.name.endswith(".lock"):
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


HOLD = """
import duckdb, sys
con = duckdb.connect(sys.argv[1])  # read-write: DuckDB lets one process at a time open the file
con.execute("begin transaction")
print("holding", flush=True)
sys.stdin.read()  # until the test lets go
"""


@dataclass
class SecondWriter:
    """What happened to a step while another process held a DuckDB file open for writing."""

    path: str
    pid: int
    error: str  # the step's error
    before: Any  # the state the step works on, before and after its failed attempt
    after: Any


@contextlib.contextmanager
def second_writer(path: Path) -> Iterator[subprocess.Popen]:
    """Another process (a DuckDB CLI, a notebook, a stray job) holding ``path`` open read-write."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "holding"
        yield proc
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def table_counts(path: Path) -> dict[str, int]:
    """Rows of every table of a DuckDB file (the warehouse: its marts, staging, seeds, quality history)."""
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute("select table_schema, table_name from information_schema.tables "
                             "where table_type = 'BASE TABLE'").fetchall()
        return {f"{s}.{t}": con.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0] for s, t in tables}


def blocked(step: Any, path: Path, state: Any, errors: list[str]) -> SecondWriter:
    """Run ``step`` while a second writer holds ``path``: it must fail, saying so."""
    before = state()
    with second_writer(path) as holder:
        with pytest.raises(FileInUse) as failed:
            step()
    errors.append(str(failed.value))
    return SecondWriter(str(path), holder.pid, str(failed.value), before, state())


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Nights:
    """The two nights, run once for the module (tests/conftest.py keeps a module on one xdist
    worker), as plain JSON values (dates and paths as text)."""
    nights = two_nights(tmp_path_factory.mktemp("resilience") / "shinrai")
    return Nights(**json.loads(json.dumps(asdict(nights), ensure_ascii=False, default=str)))


def two_nights(home: Path) -> Nights:
    sb = Sandbox(seed=7, scale=SCALE, credentials=CANARIES,
                 faults=Faults(large_text_bytes=LARGE_TEXT_BYTES, oversized_bytes=MAX_RECORD_BYTES)).start()
    webhook = sb.slack_url.removesuffix("/api/") + f"/services/T0SHINRAI/B0QUALITY/{WEBHOOK_SECRET}"
    config = write_config(home / "shinrai.yaml", {"landing": {"max_record_bytes": MAX_RECORD_BYTES}})
    env = {"SHINRAI_HOME": str(home), "SHINRAI_CONFIG": str(config), "SHINRAI_QUALITY_SLACK_WEBHOOK": webhook,
           **hook_env(sb, timeout=1)}
    out = io.StringIO()
    errors: list[str] = []
    writers: dict[str, SecondWriter] = {}
    try:
        with pointed_at(env) as mp, everything_logged() as logs, contextlib.redirect_stdout(out), \
                contextlib.redirect_stderr(out):
            # -- night 1 -------------------------------------------------------------------------------
            wrong = json.loads(env["AIRFLOW_CONN_SHINRAI_JIRA"]) | {"password": WRONG_JIRA_TOKEN}
            mp.setenv("AIRFLOW_CONN_SHINRAI_JIRA", json.dumps(wrong))
            with pytest.raises(SourceUnavailable) as refused:  # an operator pasted the wrong token
                pipeline.extract_jira("night-1")
            errors.append(str(refused.value))
            mp.setenv("AIRFLOW_CONN_SHINRAI_JIRA", env["AIRFLOW_CONN_SHINRAI_JIRA"])
            sb.set_faults(burst_5xx=2, retry_after_5xx=0, slow_burst=1, slow_ms=1_500)
            pipeline.extract_jira("night-1")
            pipeline.extract_notion("night-1")
            pipeline.extract_slack("night-1")
            sb.set_faults(burst_5xx=0, slow_burst=0)
            pipeline.build_marts(as_of_date=NIGHT_1.isoformat())
            night1_quality = pipeline.check_quality("nightly")
            pipeline.publish(run_id="night-1", docs=False)
            # the task is retried while someone holds the warehouse: it fails; the retry after succeeds
            writers["publish"] = blocked(lambda: pipeline.publish(run_id="night-1", docs=False),
                                         paths().warehouse_file, lambda: tree_digest(layout().root), errors)
            publication = pipeline.publish(run_id="night-1", docs=False)
            report = Path(pipeline.build_report())
            pipeline.chase(run_date=NIGHT_1, dry_run=True, send=False, today=NIGHT_1)  # the nightly preview
            sb.set_faults(burst_5xx=1, servers=("slack",))  # Slack stumbles while reminders go out
            chase_sent = pipeline.chase(run_date=NIGHT_1, today=NIGHT_1)
            sb.set_faults(burst_5xx=0, servers=("jira", "notion", "slack"))
            published_tree = tree_digest(layout().root)
            # -- night 2: a full refresh while every source serves malformed records ------------------
            sb.set_faults(malformed=True)
            writers["extract"] = blocked(lambda: pipeline.extract_jira("night-2", full_refresh=True),
                                         paths().landing_file("jira"), landed, errors)
            pipeline.extract_jira("night-2", full_refresh=True)
            pipeline.extract_notion("night-2", full_refresh=True)
            pipeline.extract_slack("night-2", full_refresh=True)
            writers["dbt build"] = blocked(
                lambda: pipeline.build_marts(full_refresh=True, as_of_date=NIGHT_2.isoformat()),
                paths().warehouse_file, lambda: table_counts(paths().warehouse_file), errors)
            pipeline.build_marts(full_refresh=True, as_of_date=NIGHT_2.isoformat())
            with pytest.raises(pipeline.QualityGateFailed) as gate:
                pipeline.check_quality("nightly")
            errors.append(str(gate.value))
            # the DAG stops here; someone then runs `shinrai publish` by hand (or clears the task)
            with pytest.raises(PublishError) as refusal:
                pipeline.publish(run_id="night-2", docs=False)
            errors.append(str(refusal.value))
            manifest = sb.manifest()
            texts = {d["key"]: sb.planted_text(d["key"]) for d in manifest["defects"]
                     if d["kind"] in ("large_text_record", "oversized_record")}
        return Nights(str(home), manifest, texts, sb.posted_messages, logs.lines, out.getvalue(), night1_quality,
                      publication, str(report), chase_sent, published_tree, gate.value.summary,
                      str(refusal.value), {k: asdict(w) for k, w in writers.items()}, errors)
    finally:
        sb.stop()


@pytest.fixture
def nights(ran: Nights, monkeypatch: pytest.MonkeyPatch) -> Nights:
    """The two nights' results, with the environment pointing at their SHINRAI_HOME."""
    monkeypatch.setenv("SHINRAI_HOME", ran.home)
    monkeypatch.setenv("SHINRAI_CONFIG", str(Path(ran.home) / "shinrai.yaml"))
    monkeypatch.delenv("SHINRAI_PUBLISH_DIR", raising=False)
    return ran


# -- 100 KB Japanese, emoji and combining marks -----------------------------------------------------

def warehouse(sql: str, params: list[Any] | None = None) -> list[tuple]:
    """Query the warehouse as dbt sees it (landing files attached read-only, for the staging views)."""
    with duckdb.connect(str(paths().warehouse_file), read_only=True) as con:
        for source in SOURCES:
            con.execute(f"attach '{paths().landing_file(source)}' as {source} (read_only)")
        return con.execute(sql, params or []).fetchall()


def test_large_texts_land_byte_identical_in_raw(nights):
    key, text = nights.planted("large_text_record", "jira")
    (summary,) = query(paths().landing_file("jira"), "select payload->>'$.fields.summary' from raw.incidents "
                                                     "where source_key = ?", [key])[0]
    assert summary.encode("utf-8") == text.encode("utf-8") and len(summary.encode("utf-8")) == LARGE_TEXT_BYTES
    page_id, title = nights.planted("large_text_record", "notion")
    (segments,) = query(paths().landing_file("notion"), "select payload->'$.properties.Name.title' "
                                                        "from raw.risk_records where source_id = ?", [page_id])[0]
    pieces = [s["plain_text"] for s in json.loads(segments)]
    assert len(pieces) > 1 and "".join(pieces) == title  # Notion's 2,000-character text objects, in order
    message_id, message = nights.planted("large_text_record", "slack")
    (landed,) = query(paths().landing_file("slack"), "select payload->>'$.text' from raw.messages "
                                                     "where source_id = ?", [message_id])[0]
    assert landed == message
    for text_ in (summary, title, landed):  # the characters that break naive handling survived
        assert all(s in text_ for s in ("𠮷", "👨‍👩‍👧‍👦", "か\u3099", "葛\U000e0100", "\u2028", "\\", '"'))


def test_large_texts_survive_staging_the_marts_and_the_publication(nights):
    key, summary = nights.planted("large_text_record", "jira")
    page_id, title = nights.planted("large_text_record", "notion")
    message_id, message = nights.planted("large_text_record", "slack")
    assert warehouse("select summary from staging.stg_jira__incidents where incident_key = ?", [key]) == [(summary,)]
    assert warehouse("select title from staging.stg_notion__risk_records where risk_record_id = ?",
                     [page_id]) == [(title,)]
    assert warehouse("select message_text from staging.stg_slack__messages where message_id = ?",
                     [message_id]) == [(message,)]
    assert warehouse("select summary from marts.fct_incidents where incident_key = ?", [key]) == [(summary,)]
    assert warehouse("select title from marts.fct_risk_records where risk_record_id = ?", [page_id]) == [(title,)]
    reader = bi_reader(nights, key, page_id)
    assert reader["summary"] == reader["parquet_summary"] == summary
    assert reader["title"] == reader["parquet_title"] == title


# -- oversized records ------------------------------------------------------------------------------

def served_text(source: str, payload: dict) -> str:
    """The planted text field of a record's payload (Jira summary, Notion title, Slack text)."""
    if source == "jira":
        return payload["fields"]["summary"]
    if source == "notion":
        return "".join(s["plain_text"] for s in payload["properties"]["Release"]["title"])
    return payload["text"]


def test_oversized_records_are_quarantined_whole_with_their_size_not_dropped(nights):
    counts = nights.manifest["counts"]
    for source, stream in (("jira", "actions"), ("notion", "release_calendar"), ("slack", "messages")):
        key, text = nights.planted("oversized_record", source)
        path = paths().landing_file(source)
        rows = query(path, "select reason, payload_text, resolved_at from raw.quarantine "
                           "where stream = ? and (source_id = ? or payload_text like ?)",
                     [stream, key, f'%"key":"{key}"%'])
        assert rows, f"{source}: the oversized record {key} is not in raw.quarantine"
        reason, payload_text, resolved_at = rows[0]
        assert "more than landing.max_record_bytes (1,048,576)" in reason and resolved_at is None
        assert len(payload_text.encode("utf-8")) > MAX_RECORD_BYTES
        assert served_text(source, json.loads(payload_text)) == text  # kept whole, as served
        held = query(path, f"select count(*) from raw.{stream} where source_id = ? or source_key = ?", [key, key])
        assert held == [(0,)]  # not landed
        runs = query(path, "select status, records_quarantined, error from state.extraction_runs "
                           "where run_id = 'night-1' and stream = ?", [stream])
        # the record did not fail its run; the only failed Jira attempt is the wrong token's
        successes = [n for status, n, _ in runs if status == "success"]
        assert successes and sum(successes) >= 1, runs
        assert all("401" in error for status, _, error in runs if status != "success"), runs
    # everything else of those streams landed
    live_actions = query(paths().landing_file("jira"), "select count(*) from raw.actions where not is_deleted")
    assert live_actions == [(counts["jira.actions"] - 1,)]
    changelog = query(paths().landing_file("jira"), "select count(*) from raw.changelogs where source_key = ?",
                      [nights.planted("oversized_record", "jira")[0]])
    assert changelog == [(0,)]  # derived records wait with their issue
    assert "raw_quarantine.quarantine_resolved" in nights.night1_quality["warnings"]
    assert nights.night1_quality["critical_failures"] == []


# -- a quality failure after a good publication -----------------------------------------------------

def bi_reader(nights: Nights, incident_key: str, risk_id: str) -> dict:
    """A BI tool in its own process: the publication's DuckDB file read-only, and its Parquet set."""
    target = layout()
    code = """
import duckdb, json, sys
db, parquet, key, risk = sys.argv[1:]
con = duckdb.connect(db, read_only=True)
tables = dict(con.execute("select table_name, row_count from _publication_tables").fetchall())
out = {
    "publication_id": con.execute("select publication_id from _publication").fetchone()[0],
    "as_of_date": str(con.execute("select as_of_date from _publication").fetchone()[0]),
    "tables": tables,
    "counts": {t: con.execute(f'select count(*) from "{t}"').fetchone()[0] for t in tables},
    "summary": con.execute("select summary from fct_incidents where incident_key = ?", [key]).fetchone()[0],
    "title": con.execute("select title from fct_risk_records where risk_record_id = ?", [risk]).fetchone()[0],
}
pq = duckdb.connect()
out["parquet_summary"] = pq.execute(f"select summary from '{parquet}/fct_incidents.parquet' "
                                    "where incident_key = ?", [key]).fetchone()[0]
out["parquet_title"] = pq.execute(f"select title from '{parquet}/fct_risk_records.parquet' "
                                  "where risk_record_id = ?", [risk]).fetchone()[0]
print(json.dumps(out, ensure_ascii=False))
"""
    proc = subprocess.run([sys.executable, "-c", code, str(target.duckdb_file), str(target.parquet_link),
                           incident_key, risk_id], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)


def test_a_quality_failure_the_next_night_keeps_the_last_good_publication(nights):
    assert "raw_quarantine.quarantine_share_below_limit" in nights.night2_failure["critical_failures"]
    assert "previous publication stays live" in nights.publish_refusal
    assert nights.night2_failure["run_id"] in nights.publish_refusal
    assert tree_digest(layout().root) == nights.published_tree  # byte for byte: DuckDB file, Parquet, docs
    key, _ = nights.planted("large_text_record", "jira")
    page_id, _ = nights.planted("large_text_record", "notion")
    reader = bi_reader(nights, key, page_id)
    assert reader["publication_id"] == nights.publication["publication_id"]
    assert reader["counts"] == reader["tables"] == nights.publication["tables"]
    assert reader["as_of_date"] == NIGHT_1.isoformat()
    # meanwhile the warehouse holds night 2's rebuild, which BI never sees
    assert warehouse("select max(as_of_date) from marts.fct_prevention_actions") == [(NIGHT_2,)]


# -- a second writer on the warehouse and on a landing file ------------------------------------------

@pytest.mark.parametrize("step", ["extract", "dbt build", "publish"])
def test_a_second_writer_fails_the_step_clearly_loses_nothing_and_the_rerun_succeeds(nights, step):
    writer = SecondWriter(**nights.writers[step])
    assert writer.error.startswith(f"{writer.path} is in use by ")  # the file, and who holds it
    assert f"(PID {writer.pid})" in writer.error and "Nothing was changed; rerun this step" in writer.error
    assert writer.after == writer.before  # the failed attempt changed nothing
    if step == "extract":  # the rerun extracted the source completely
        counts = nights.manifest["counts"]
        live = query(paths().landing_file("jira"), "select count(*) from raw.incidents where not is_deleted")
        assert live == [(counts["jira.incidents"],)]
    elif step == "dbt build":  # the rerun rebuilt the marts as of night 2
        assert warehouse("select count(*), max(as_of_date) from marts.fct_prevention_actions") == [
            (nights.manifest["counts"]["jira.actions"] - 1, NIGHT_2)]
    else:  # the retry published, naming the publication it replaced
        assert nights.publication["previous_publication_id"] is not None
        assert tree_digest(layout().root) != writer.before


# -- secrets ----------------------------------------------------------------------------------------

def secrets() -> dict[str, str]:
    """Each credential, and the forms a leak could take (the Jira Basic auth header's base64)."""
    return leak_forms(CANARIES, {"wrong jira": WRONG_JIRA_TOKEN}, {"quality webhook secret": WEBHOOK_SECRET})


def duckdb_hits(path: Path, needles: dict[str, str], attach: bool = False) -> list[str]:
    """``<file> <schema>.<table>: <secret>`` for every table or view of a DuckDB file with a secret in a row."""
    hits = []
    with duckdb.connect(str(path), read_only=True) as con:
        if attach:
            for source in SOURCES:
                con.execute(f"attach '{paths().landing_file(source)}' as {source} (read_only)")
        catalog = con.execute("select current_database()").fetchone()[0]
        tables = con.execute("select table_schema, table_name from information_schema.tables "
                             "where table_catalog = ?", [catalog]).fetchall()
        assert tables, f"{path} has no tables"
        for schema, table in tables:
            for name, needle in needles.items():
                sql = f'select count(*) from "{schema}"."{table}" as r where contains(r::varchar, ?)'
                if con.execute(sql, [needle]).fetchone()[0]:
                    hits.append(f"{path.name} {schema}.{table}: {name}")
    return hits


def file_hits(root: Path, needles: dict[str, str]) -> tuple[list[str], int]:
    """Every file under ``root`` with a secret in it (DuckDB files by their tables, Parquet by its rows)."""
    hits, scanned = [], 0
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
        scanned += 1
        if path.suffix == ".duckdb":
            hits += duckdb_hits(path, needles, attach=path == paths().warehouse_file)
        elif path.suffix == ".parquet":
            for name, needle in needles.items():
                sql = f"select count(*) from '{path}' as r where contains(r::varchar, ?)"
                if duckdb.execute(sql, [needle]).fetchone()[0]:
                    hits.append(f"{path.relative_to(root)}: {name}")
        else:
            data = path.read_bytes()
            hits += [f"{path.relative_to(root)}: {name}" for name, needle in needles.items()
                     if needle.encode() in data]
    return hits, scanned


def test_the_secret_scan_finds_a_planted_secret_anywhere_it_looks(tmp_path, monkeypatch):
    """The scan below proves something only if it sees secrets where they would be."""
    monkeypatch.setenv("SHINRAI_HOME", str(tmp_path))
    needles = secrets()
    token = needles["slack token"]
    (tmp_path / "task.log").write_text(f"Authorization: Bearer {token}\n", encoding="utf-8")
    with duckdb.connect(str(tmp_path / "some.duckdb")) as con:
        con.execute("create schema raw")
        con.execute("create table raw.t as select 1 as id, {'headers': ['x', ?]} as payload", [token])
        con.execute(f"copy raw.t to '{tmp_path / 't.parquet'}' (format parquet, compression zstd)")
    hits, scanned = file_hits(tmp_path, needles)
    assert scanned == 3 and sorted(hits) == ["some.duckdb raw.t: slack token", "t.parquet: slack token",
                                             "task.log: slack token"]


def test_no_secret_appears_in_logs_tables_data_docs_publication_or_report(nights):
    needles = secrets()
    assert nights.chase_sent["sent"] > 0 and Path(nights.report).exists()  # the whole pipeline ran, errors included
    assert any("Jira is unavailable: HTTP 401" in e for e in nights.errors)
    assert any("attempt 1 failed (request timed out)" in line for line in nights.log_lines)
    assert any("HTTP 503" in line for line in nights.log_lines)
    text = "\n".join(nights.log_lines) + nights.output + "\n".join(nights.errors)
    assert [name for name, needle in needles.items() if needle in text] == []
    data_docs = paths().home / "quality" / "data_docs"
    assert (data_docs / "index.html").exists()
    hits, scanned = file_hits(paths().home, needles)  # landing files, warehouse, Data Docs, GX results,
    assert scanned > 50 and hits == []                 # dbt logs and target, publication, docs, report
    gx_hits, _ = file_hits(PROJECT_ROOT / "gx", needles)  # the committed GX project is never written with one
    assert gx_hits == []
    sent = json.dumps(nights.posted, ensure_ascii=False)  # alerts and reminders as Slack got them
    assert [name for name, needle in needles.items() if needle in sent] == []

