"""Issue 7 end to end: the chaser delivers what rpt_reminder_messages says (the actions of
rpt_overdue_actions), to the sandbox Slack (and Jira), exactly once — reruns, failures, crashes,
backfills and past dates included; it never builds the marts itself (issue 20)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest
import yaml

from shinrai import pipeline
from shinrai.airflow_env import sandbox_connections
from shinrai.hooks.retry import RetryPolicy
from shinrai.sandbox import Sandbox
from shinrai.settings import PROJECT_ROOT, paths
from shinrai.transform import builds, dbt

RUN_DATE = date(2026, 11, 24)  # a Tuesday and a Japanese business day, three weeks after the anchor


def _config(home: Path, **chaser: object) -> Path:
    tree = yaml.safe_load((PROJECT_ROOT / "config" / "shinrai.yaml").read_text(encoding="utf-8"))
    tree["chaser"].update(chaser)
    path = home / f"shinrai-{'-'.join(f'{k}{v}' for k, v in chaser.items()) or 'default'}.yaml"
    path.write_text(yaml.safe_dump(tree, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def org(tmp_path_factory):
    """One sandbox, extracted and built once; each test gets a copy of the warehouse."""
    home = tmp_path_factory.mktemp("chase")
    sb = Sandbox(seed=7, scale=0.25).start()
    saved = dict(os.environ)
    os.environ.update(sandbox_connections(sb.jira_url, sb.notion_url, sb.slack_url, sb.credentials))
    os.environ["SHINRAI_HOME"] = str(home)
    try:
        for extract in (pipeline.extract_jira, pipeline.extract_notion, pipeline.extract_slack):
            extract("run-1")
        pipeline.build_marts(as_of_date=RUN_DATE.isoformat())
        yield sb, home
    finally:
        os.environ.clear()
        os.environ.update(saved)
        sb.stop()


@pytest.fixture
def env(org, tmp_path, monkeypatch):
    sb, home = org
    return _copy_env(sb, home, tmp_path, monkeypatch)


def _copy_env(sb, home, tmp_path, monkeypatch):
    import shutil

    mine = tmp_path / "home"
    shutil.copytree(home, mine, ignore=shutil.ignore_patterns("airflow"))
    monkeypatch.setenv("SHINRAI_HOME", str(mine))
    for key, value in sandbox_connections(sb.jira_url, sb.notion_url, sb.slack_url, sb.credentials).items():
        monkeypatch.setenv(key, value)
    sb.set_faults(burst_5xx=0, latency_ms=0)
    before = len(sb.posted_messages)
    return sb, mine, before


def _due(run_date: date = RUN_DATE) -> list[dict]:
    with duckdb.connect(str(paths().warehouse_file), read_only=True) as con:
        cur = con.execute("select * from marts.rpt_overdue_actions where send_on = ?", [run_date])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _posted(sb: Sandbox, before: int) -> list[dict]:
    return [m for m in sb.posted_messages[before:] if m.get("via") != "webhook"]


def test_sends_exactly_what_the_model_says_then_nothing_on_rerun(env):
    sb, _, before = env
    summary = pipeline.chase(RUN_DATE, today=RUN_DATE, dry_run=False)
    due = _due()
    assert due, "the sandbox should have reminders due on the pinned day"
    posted = _posted(sb, before)
    owner_rows = [r for r in due if r["reminder_stage"] != "escalation"]
    assert summary["sent"] == len(posted) >= len(owner_rows)
    for row in owner_rows:
        hits = [m for m in posted if f"/browse/{row['action_key']}|" in (m["text"] or "")]
        assert len(hits) == 1, row["action_key"]
        if row["recipient_type"] == "owner":
            assert hits[0]["channel_id"] == "D" + row["recipient_slack_id"][1:]  # the owner's DM
        assert str(row["due_date"]) in hits[0]["text"]
    with duckdb.connect(str(paths().warehouse_file), read_only=True) as con:
        ledger = con.execute("select status, count(*) from chaser.reminder_ledger group by 1").fetchall()
    escalations = len(due) - len(owner_rows)
    assert ledger == [("sent", len(owner_rows) + 2 * escalations)]  # an escalation goes out in two digests
    again = pipeline.chase(RUN_DATE, today=RUN_DATE, dry_run=False)
    assert len(_posted(sb, before)) == len(posted)
    assert again["sent"] == 0 and again["skipped_already_sent"] == summary["sent"]


def test_past_dates_and_backfills_send_nothing(env):
    sb, _, before = env
    past = pipeline.chase(date(2026, 11, 20), today=RUN_DATE, dry_run=False)
    backfill = pipeline.chase(RUN_DATE, today=RUN_DATE, dry_run=False, send=False)
    assert past["sent"] == backfill["sent"] == 0
    assert backfill["would_send"] > 0
    assert _posted(sb, before) == []


def test_dry_run_prints_and_sends_nothing(env, capsys):
    sb, _, before = env
    result = pipeline.chase(RUN_DATE, today=RUN_DATE, dry_run=True)
    out = capsys.readouterr().out
    assert result["would_send"] > 0 and out.count("--- to ") == result["would_send"]
    assert _posted(sb, before) == []


def test_a_failed_send_is_retried_next_run_and_never_doubled(env):
    sb, _, before = env
    sb.set_faults(burst_5xx=100_000, servers=("slack",))
    requests_before = len(sb.requests)
    first = pipeline.chase(RUN_DATE, today=RUN_DATE, dry_run=False)
    assert first["planned"] > 1 and first["failed"] == first["planned"] and _posted(sb, before) == []
    # Slack stayed down: only the first message spent its retries, the rest wait for the next run
    slack_calls = [r for r in sb.requests[requests_before:] if r.server == "slack"]
    assert len(slack_calls) == RetryPolicy().max_attempts
    sb.set_faults(burst_5xx=0, servers=("jira", "notion", "slack"))
    second = pipeline.chase(RUN_DATE, today=RUN_DATE, dry_run=False)
    third = pipeline.chase(RUN_DATE, today=RUN_DATE, dry_run=False)
    assert second["sent"] == first["planned"] and third["sent"] == 0
    refs = [m["text"].rsplit("(ref ", 1)[-1] for m in _posted(sb, before)]
    assert len(refs) == len(set(refs)) == first["planned"]


def test_injection_in_a_summary_arrives_escaped(env):
    sb, home, before = env
    hostile = "Rotate keys <!channel> <@U123> <https://evil.example|click>"
    with duckdb.connect(str(paths().warehouse_file)) as con:  # a summary someone typed into Jira
        key = con.execute("select action_key from marts.rpt_overdue_actions where send_on = ? limit 1",
                          [RUN_DATE]).fetchone()[0]
    from shinrai.chase.chaser import Chaser
    from shinrai.hooks import SlackHook

    with duckdb.connect(str(paths().warehouse_file)) as con:
        con.execute("update marts.rpt_overdue_actions set summary = ? where action_key = ?", [hostile, key])
    Chaser(str(paths().warehouse_file), SlackHook(), None, sb.jira_url).run(RUN_DATE)
    text = next(m["text"] for m in _posted(sb, before) if f"/browse/{key}|" in m["text"])
    assert "<!channel>" not in text and "<@U123>" not in text and "<https://evil.example|click>" not in text
    assert "&lt;!channel&gt; &lt;@U123&gt; &lt;https://evil.example|click&gt;" in text


def test_jira_comments_land_on_the_right_issues_once(env, monkeypatch):
    sb, home, before = env
    monkeypatch.setenv("SHINRAI_CONFIG", str(_config(home, jira_comments=True)))
    comments_before = {k: len(v) for k, v in sb.jira_comments.items()}
    pipeline.chase(RUN_DATE, today=RUN_DATE, dry_run=False)
    pipeline.chase(RUN_DATE, today=RUN_DATE, dry_run=False)
    expected = {r["action_key"] for r in _due() if r["reminder_stage"] != "escalation"}
    added = {k: len(v) - comments_before.get(k, 0) for k, v in sb.jira_comments.items()}
    assert {k for k, n in added.items() if n} == expected
    assert set(added[k] for k in expected) == {1}
    body = sb.jira_comments[sorted(expected)[0]][-1]
    assert body["rest_api_version"] == "3" and body["body"]["type"] == "doc"


def test_a_crash_between_sending_and_recording_never_double_sends(env):
    sb, _, before = env
    sb.set_faults(latency_ms=400, servers=("slack",))
    code = ("from datetime import date; from shinrai import pipeline; "
            f"pipeline.chase(date.fromisoformat('{RUN_DATE}'), today=date.fromisoformat('{RUN_DATE}'), "
            "dry_run=False)")
    proc = subprocess.Popen([sys.executable, "-c", code], env=dict(os.environ),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and not _posted(sb, before):
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)  # the first message is out; its ledger row still says pending
    proc.wait()
    sb.set_faults(latency_ms=0, servers=("jira", "notion", "slack"))
    assert _posted(sb, before)
    result = pipeline.chase(RUN_DATE, today=RUN_DATE, dry_run=False)
    refs = [m["text"].rsplit("(ref ", 1)[-1] for m in _posted(sb, before)]
    assert len(refs) == len(set(refs)) == result["planned"]
    assert result["recovered_after_crash"] + result["skipped_already_sent"] >= 1


def _in_posts(sb: Sandbox, before: int, action_key: str) -> list[dict]:
    return [m for m in _posted(sb, before) if f"/browse/{action_key}|" in (m["text"] or "")]


def _escalation_day() -> date:
    """The business day up to RUN_DATE when the most open actions reach the escalation stage (the
    pinned day has none at this scale)."""
    from shinrai.config import load

    after = load().chaser_escalation_after_business_days
    with duckdb.connect(str(paths().warehouse_file), read_only=True) as con:
        schema = con.execute("select table_schema from information_schema.tables "
                             "where table_name = 'int_business_days_indexed'").fetchone()[0]
        row = con.execute(
            f"""
            select day.calendar_date, count(distinct a.product_code) as products, count(*) as actions
            from marts.fct_prevention_actions as a
            join {schema}.int_business_days_indexed as due on a.due_date = due.calendar_date
            join {schema}.int_business_days_indexed as day
                on day.business_day_index = due.business_day_index + ? and day.is_business_day
            where a.is_open and day.calendar_date <= ?
            group by 1 order by products desc, actions desc, 1 desc limit 1
            """,
            [after, RUN_DATE],
        ).fetchone()
    assert row is not None, "no open action reaches the escalation stage in the sandbox"
    return row[0]


@pytest.fixture(scope="module")
def escalation_org(org, tmp_path_factory):
    """A copy of the module's warehouse with the reminder models evaluated (and the build recorded)
    for a day with escalations (one dbt run shared by the digest tests)."""
    import shutil

    sb, home = org
    mine = tmp_path_factory.mktemp("escalation") / "home"
    shutil.copytree(home, mine, ignore=shutil.ignore_patterns("airflow"))
    saved = os.environ.get("SHINRAI_HOME")
    os.environ["SHINRAI_HOME"] = str(mine)
    try:
        day = _escalation_day()
        with builds.recorded(paths().warehouse_file, None, day, False):
            dbt.run_dbt(["run", "--select", "rpt_overdue_actions", "rpt_reminder_messages"],
                        extra_vars={"as_of_date": day.isoformat()})
    finally:
        if saved is None:
            os.environ.pop("SHINRAI_HOME")
        else:
            os.environ["SHINRAI_HOME"] = saved
    return sb, mine, day


@pytest.fixture
def escalation_env(escalation_org, tmp_path, monkeypatch):
    sb, home, day = escalation_org
    return (*_copy_env(sb, home, tmp_path, monkeypatch), day)


def test_both_escalation_digests_are_sent_once(escalation_env):
    """Issue 17: an escalation goes out in its product channel's digest and in the reliability
    team's digest; each digest has its own ledger ids, so both are sent, once each (before, they
    shared the ledger rows and the team's copy was never sent: planned 5, sent 4)."""
    sb, _, before, day = escalation_env
    first = pipeline.chase(day, today=day, dry_run=False)
    escalations = [r for r in _due(day) if r["reminder_stage"] == "escalation"]
    assert escalations
    assert first["failed"] == 0 and first["sent"] == first["planned"], first
    for row in escalations:  # in exactly two digests: its product's and the team's
        assert len(_in_posts(sb, before, row["action_key"])) == 2, row["action_key"]
    team = [m for m in _posted(sb, before) if "all products" in m["text"]]
    assert len(team) == 1 and all(_in(team[0], r) for r in escalations)
    refs = [m["text"].rsplit("(ref ", 1)[-1] for m in _posted(sb, before)]
    assert len(refs) == len(set(refs)) == first["planned"]
    again = pipeline.chase(day, today=day, dry_run=False)
    assert again["sent"] == 0 and again["skipped_already_sent"] == first["planned"]
    assert len(_posted(sb, before)) == first["planned"]


def _in(message: dict, row: dict) -> bool:
    return f"/browse/{row['action_key']}|" in (message["text"] or "")


def _old_ref(reminder_ids: list[str], recipient: str) -> str:
    """The ref versions before issue 17 gave a digest (recomputed here, as that code computed it)."""
    import hashlib

    basis = "|".join(sorted(reminder_ids)) + "|" + recipient + "|digest"
    return "r-" + hashlib.sha256(basis.encode()).hexdigest()[:12]


def test_digests_sent_by_an_older_version_are_not_resent(escalation_env):
    """Ledger rows written before issue 17 (each product digest recorded under the bare reminder
    ids, with the ref that version gave it) still count after the upgrade: a rerun sends only the
    team's digest, which that version never sent, and records the product digests under their new
    ids with the old message's ts."""
    from shinrai.chase.ledger import Ledger
    from shinrai.config import load

    sb, _, before, day = escalation_env
    team_channel = load().chaser_team_channel
    products: dict[str, list[dict]] = {}
    for row in _due(day):
        if row["reminder_stage"] == "escalation":
            row["reminder_id"] = f"{row['action_id']}:{row['reminder_stage']}:{row['send_on']}"
            products.setdefault(row["recipient_slack_id"] or team_channel, []).append(row)
    assert products
    with duckdb.connect(str(paths().warehouse_file)) as con:  # what the old version left behind
        ledger = Ledger(con)
        ledger.ensure()
        for recipient, rows in products.items():
            ids = [r["reminder_id"] for r in rows]
            ledger.pending(rows, recipient, "C-old", _old_ref(ids, recipient), day)
            ledger.sent(ids, "1700000000.000100")
    result = pipeline.chase(day, today=day, dry_run=False)
    escalations = [r for rows in products.values() for r in rows]
    digests = [m for m in _posted(sb, before) if any(_in(m, r) for r in escalations)]
    assert len(digests) == 1 and all(_in(digests[0], r) for r in escalations)  # the team's, never a product's
    assert result["failed"] == 0 and result["skipped_already_sent"] == len(products)
    assert result["sent"] == result["planned"] - len(products)
    with duckdb.connect(str(paths().warehouse_file), read_only=True) as con:
        adopted = con.execute("select distinct slack_ts from chaser.reminder_ledger where reminder_id like ?",
                              ["%:product-digest"]).fetchall()
    assert adopted == [("1700000000.000100",)]
    assert pipeline.chase(day, today=day, dry_run=False)["sent"] == 0


def test_the_sender_never_builds_the_marts(env):
    """Marts built as of another day: the chase refuses, sends nothing and builds nothing (it used
    to run dbt for rpt_overdue_actions itself, unrecorded)."""
    from shinrai.chase.chaser import RemindersNotBuilt

    sb, _, before = env
    next_day = date(2026, 11, 25)
    builds_before = builds.latest(paths().warehouse_file)
    with pytest.raises(RemindersNotBuilt, match=f"not {next_day}"):
        pipeline.chase(next_day, today=next_day, dry_run=False)
    assert _posted(sb, before) == []
    assert builds.latest(paths().warehouse_file) == builds_before
    with duckdb.connect(str(paths().warehouse_file), read_only=True) as con:
        assert con.execute("select max(send_on) from marts.rpt_reminder_messages").fetchone()[0] == RUN_DATE


def test_messages_go_where_the_model_says(escalation_env):
    """The sender delivers the model's rows as they are: the team digest goes to the row's
    recipient (here moved, in the model's table, to a product's channel), not to a channel the
    sender knows from the configuration."""
    sb, _, before, day = escalation_env
    with duckdb.connect(str(paths().warehouse_file)) as con:
        product_channel = con.execute(
            "select recipient_slack_id from marts.rpt_reminder_messages where send_on = ? "
            "and message_kind = 'product_digest' order by 1 limit 1", [day]).fetchone()[0]
        con.execute("update marts.rpt_reminder_messages set recipient_slack_id = ? "
                    "where send_on = ? and message_kind = 'team_digest'", [product_channel, day])
    result = pipeline.chase(day, today=day, dry_run=False)
    assert result["failed"] == 0
    posted = _posted(sb, before)
    team = [m for m in posted if "all products" in m["text"]]
    product = [m for m in posted if "all products" not in m["text"] and "Escalation" in m["text"]
               and m["channel_id"] == team[0]["channel_id"]]
    assert len(team) == 1 and product, "the team digest should land in the product channel the model named"
