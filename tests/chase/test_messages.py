"""Reminder texts, and how the sender reads the messages the model decided."""

from __future__ import annotations

import hashlib
from datetime import date

import duckdb
import pytest

from shinrai.chase.chaser import RemindersNotBuilt, due_messages
from shinrai.chase.messages import adf_comment, digest_message, owner_message
from shinrai.hooks.mrkdwn import escape_mrkdwn

HOSTILE = "Fix <!channel> ping <@U123> and <https://evil.example|click here> & more"


def _row(i: int, stage: str = "overdue", recipient: str = "U0000000001", product: str = "payroll") -> dict:
    return {"reminder_id": f"{i}:{stage}:2026-11-24", "action_id": str(i), "action_key": f"PAY-{i}",
            "summary": HOSTILE, "reminder_stage": stage, "reminder_sequence": 1, "send_on": date(2026, 11, 24),
            "due_date": date(2026, 11, 10), "days_overdue": 14, "owner_display_name": "Sato <b>",
            "postmortem_key": "INC-9", "incident_key": "INC-8", "recipient_type": "owner",
            "recipient_slack_id": recipient, "product_code": product, "routing_reason": None}


def test_user_text_is_escaped_not_executed():
    assert escape_mrkdwn("<!channel>") == "&lt;!channel&gt;"
    body = owner_message(_row(1), "https://jira.example", "r-1")
    assert "<!channel>" not in body["text"] and "<@U123>" not in body["text"]
    assert "<https://evil.example|click here>" not in body["text"]
    assert "&lt;!channel&gt;" in body["text"] and "&amp; more" in body["text"]
    assert "<https://jira.example/browse/PAY-1|PAY-1>" in body["text"]  # our own links stay links
    assert "Sato &lt;b&gt;" in body["text"]


def test_message_names_action_postmortem_incident_due_and_days_overdue():
    text = owner_message(_row(7), "https://jira.example", "r-7")["text"]
    for needle in ("PAY-7", "INC-9", "INC-8", "due 2026-11-10", "14 days overdue", "ref r-7"):
        assert needle in text


def test_a_digest_lists_every_action_escaped():
    rows = [_row(1, "escalation", "prod-payroll"), _row(2, "escalation", "prod-payroll")]
    digest = digest_message("payroll", rows, "https://jira.example", "r-d")
    assert "PAY-1|" in digest["text"] and "PAY-2|" in digest["text"] and "&lt;!channel&gt;" in digest["text"]
    assert "(2)" in digest["text"] and "ref r-d" in digest["text"]


def test_jira_comment_is_adf_with_plain_text_nodes():
    doc = adf_comment(_row(5), date(2026, 11, 24), "r-5-jira")
    assert doc["type"] == "doc" and doc["version"] == 1
    texts = [n["text"] for p in doc["content"] for n in p["content"]]
    assert any("14 days overdue" in t for t in texts) and any("r-5-jira" in t for t in texts)


def _old_ref(ids: list[str], recipient: str, kind: str) -> str:
    """The ref versions before issue 20 computed (in Python, from the rows they grouped)."""
    basis = "|".join(sorted(ids)) + "|" + recipient + "|" + kind
    return "r-" + hashlib.sha256(basis.encode()).hexdigest()[:12]


def _warehouse(messages: list[tuple]) -> duckdb.DuckDBPyConnection:
    """marts.rpt_overdue_actions (actions 1, 2 escalated; 4 overdue) and the given message rows."""
    con = duckdb.connect()
    con.execute("create schema marts")
    actions = [_row(1, "escalation", "prod-payroll"), _row(2, "escalation", "prod-hr", "hr"), _row(4, "overdue")]
    con.execute("create table marts.rpt_overdue_actions as select * from (values " + ", ".join(
        f"('{r['action_id']}', '{r['action_key']}', '{r['reminder_stage']}', date '2026-11-24', "
        f"date '2026-11-10', 14)" for r in actions)
        + ") as t(action_id, action_key, reminder_stage, send_on, due_date, days_overdue)")
    con.execute("create table marts.rpt_reminder_messages (message_id varchar, send_on date, message_kind varchar, "
                "reminder_stage varchar, stage_order integer, recipient_slack_id varchar, "
                "product_codes varchar[], action_ids varchar[], reminder_ids varchar[], ledger_ids varchar[])")
    for m in messages:
        con.execute("insert into marts.rpt_reminder_messages values (?, date '2026-11-24', ?, ?, ?, ?, ?, ?, ?, ?)",
                    list(m))
    return con


E1, E2, O4 = "1:escalation:2026-11-24", "2:escalation:2026-11-24", "4:overdue:2026-11-24"
MESSAGES = [
    ("team", "team_digest", "escalation", 5, "reliability", ["hr", "payroll"], ["2", "1"], [E2, E1],
     [E2 + ":team-digest", E1 + ":team-digest"]),
    ("pp", "product_digest", "escalation", 5, "prod-payroll", ["payroll"], ["1"], [E1], [E1 + ":product-digest"]),
    ("ph", "product_digest", "escalation", 5, "reliability", ["hr"], ["2"], [E2], [E2 + ":product-digest"]),
    (O4, "owner", "overdue", 3, "U0000000001", ["payroll"], ["4"], [O4], [O4]),
]


def test_messages_are_the_model_rows_with_the_refs_older_versions_gave_them():
    """The sender takes the model's messages as they are (no regrouping); refs stay those older
    versions computed, so their ledger rows and posts are still recognised: an owner reminder's
    ref from its reminder id, a digest's legacy ref from the bare reminder ids it covers."""
    messages = due_messages(_warehouse(MESSAGES), date(2026, 11, 24))
    assert [m.message_id for m in messages] == [O4, "ph", "pp", "team"]  # singles, product digests, team
    owner, hr, payroll, team = messages
    assert owner.ref == owner.legacy_ref == _old_ref([O4], "U0000000001", "owner")
    assert hr.legacy_ref == _old_ref([E2], "reliability", "digest")
    assert hr.ref == _old_ref([E2 + ":product-digest"], "reliability", "digest") != team.ref
    assert [r["action_key"] for r in team.rows] == ["PAY-2", "PAY-1"]  # the model's order
    assert team.ledger_ids == [E2 + ":team-digest", E1 + ":team-digest"]
    assert len({m.ref for m in messages}) == 4


def test_a_message_listing_an_action_the_marts_lack_is_refused():
    broken = [("pp", "product_digest", "escalation", 5, "prod-payroll", ["payroll"], ["9"],
               ["9:escalation:2026-11-24"], ["9:escalation:2026-11-24:product-digest"])]
    with pytest.raises(RemindersNotBuilt, match="half built"):
        due_messages(_warehouse(broken), date(2026, 11, 24))


def test_a_warehouse_without_the_reminder_models_is_refused():
    con = duckdb.connect()
    con.execute("create schema marts")
    with pytest.raises(RemindersNotBuilt, match="no reminder models"):
        due_messages(con, date(2026, 11, 24))
