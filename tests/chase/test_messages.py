"""Reminder texts and the delivery plan (pure functions)."""

from __future__ import annotations

from datetime import date

from shinrai.chase.chaser import plan
from shinrai.chase.messages import adf_comment, digest_message, escape_mrkdwn, owner_message

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


def test_escalations_become_one_digest_per_product_channel_plus_the_team():
    rows = [_row(1, "escalation", "prod-payroll"), _row(2, "escalation", "prod-payroll"),
            _row(3, "escalation", "prod-hr", "hr"), _row(4, "overdue")]
    planned = plan(rows, "reliability")
    kinds = sorted((p.kind, p.recipient, len(p.rows)) for p in planned)
    assert kinds == [("digest", "prod-hr", 1), ("digest", "prod-payroll", 2), ("digest", "reliability", 3),
                     ("owner", "U0000000001", 1)]
    assert len({p.ref for p in planned}) == 4
    assert plan(rows, "reliability")[0].ref == planned[0].ref  # refs are deterministic
    digest = digest_message("payroll", rows[:2], "https://jira.example", "r-d")
    assert digest["text"].count("PAY-") >= 2 and "&lt;!channel&gt;" in digest["text"]


def test_jira_comment_is_adf_with_plain_text_nodes():
    doc = adf_comment(_row(5), date(2026, 11, 24), "r-5-jira")
    assert doc["type"] == "doc" and doc["version"] == 1
    texts = [n["text"] for p in doc["content"] for n in p["content"]]
    assert any("14 days overdue" in t for t in texts) and any("r-5-jira" in t for t in texts)


def test_every_message_has_its_own_ledger_ids_and_ref():
    """Issue 17: the product digests and the team digest once shared ledger ids (the team's copy was
    never sent). Each message now owns its ids and ref, even when a product has no channel and its
    digest goes to the team channel as well; owner reminders keep the ids older versions wrote."""
    rows = [_row(1, "escalation", "prod-payroll"), _row(2, "escalation", None, "hr"), _row(4, "overdue")]
    planned = plan(rows, "reliability")
    ids = [i for p in planned for i in p.ledger_ids()]
    assert len(ids) == len(set(ids)) == 5  # one owner reminder, two escalations in two digests each
    assert len({p.ref for p in planned}) == len(planned) == 4
    assert next(p for p in planned if p.kind == "owner").ledger_ids() == ["4:overdue:2026-11-24"]
    again = plan([dict(r) for r in reversed(rows)], "reliability")
    assert {p.ref: sorted(p.ledger_ids()) for p in again} == {p.ref: sorted(p.ledger_ids()) for p in planned}
