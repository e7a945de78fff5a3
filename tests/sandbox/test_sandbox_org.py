"""The synthetic organisation: determinism, shape, planted defects and scaling."""

from __future__ import annotations

import json
import statistics
from bisect import bisect_right
from collections import Counter
from datetime import date, datetime

import pytest

from shinrai.sandbox import Org, Sandbox, generate_org
from shinrai.sandbox.model import CAUSE_CATEGORIES, DEVELOPMENT_CATEGORIES
from shinrai.sandbox.slack_messages import SlackContent
from shinrai.sandbox.timefmt import to_jst

from ._support import jira_get

DEFECT_KINDS = {
    "timestamps_out_of_order": 3, "unknown_cause_category": 2, "unknown_development_category": 2,
    "missing_severity": 2, "action_without_due_date": 3, "action_owner_left": 1, "duplicate_across_pages": 1,
    "stale_risk_record": 1,
}


@pytest.fixture(scope="module")
def org(sandbox: Sandbox) -> Org:
    return sandbox.org


def _incidents(org: Org) -> list:
    return [i for i in org.issues if i.kind == "incident"]


def test_same_seed_same_org_and_first_page() -> None:
    a, b, c = Sandbox(seed=5, scale=0.2), Sandbox(seed=5, scale=0.2), Sandbox(seed=6, scale=0.2)
    assert a.manifest() == b.manifest()
    assert c.manifest()["defects"] != a.manifest()["defects"]
    with a.start(), b.start(), c.start():
        pages = [json.dumps(jira_get(sb, "/rest/api/3/search/jql", jql="project = INC ORDER BY key",
                                     fields="*all", maxResults=20).json()["issues"]).replace(sb.jira_url, "BASE")
                 for sb in (a, b, c)]
    assert pages[0] == pages[1] and pages[0] != pages[2]


def test_generation_is_deterministic_down_to_slack_messages() -> None:
    a, b = generate_org(3, 0.1), generate_org(3, 0.1)
    ca, cb = SlackContent(a), SlackContent(b)
    for cha, chb in list(zip(a.channels, b.channels, strict=True))[:20]:
        assert ca.messages(cha).top == cb.messages(chb).top
    assert [i.key for i in a.issues] == [i.key for i in b.issues]


def test_history_spans_three_years_with_tokyo_offsets(org: Org) -> None:
    assert org.history_start == date(2023, 11, 1) and org.anchor == date(2026, 11, 1)
    incs = _incidents(org)
    first = min(to_jst(i.occurred) for i in incs)
    last = max(to_jst(i.created) for i in incs)
    assert first.date() >= org.history_start and last < datetime(2026, 11, 1, tzinfo=first.tzinfo)
    assert (last - first).days > 3 * 365 - 30


def test_monthly_incidents_drop_after_the_team_forms(org: Org, manifest: dict) -> None:
    assert manifest["reliability_team_formed"] == "2025-09-01"
    months = Counter(to_jst(i.occurred).strftime("%Y-%m") for i in _incidents(org))
    formed = manifest["reliability_team_formed"][:7]
    before = [n for m, n in months.items() if m < formed]
    after = [n for m, n in months.items() if m >= formed]
    assert statistics.mean(before) > 1.7 * statistics.mean(after)
    assert max(after) < statistics.mean(before)


def test_about_thirty_percent_follow_a_release(org: Org) -> None:
    releases: dict[str, list[float]] = {}
    for r in org.releases:
        if r.at <= org.anchor_t:
            releases.setdefault(r.product, []).append(r.at)
    incs = _incidents(org)
    after = []
    for i in incs:
        times = releases[i.product]
        k = bisect_right(times, i.occurred) - 1
        if k >= 0 and i.occurred - times[k] < 72 * 3600:
            after.append(i)
    assert 0.22 <= len(after) / len(incs) <= 0.38
    regular = sum(1 for i in after if i.devcat == "Regular release")
    assert regular / len(after) > 0.5


def test_severity_mix_and_heavy_tailed_stages(org: Org) -> None:
    sev = Counter(i.severity for i in _incidents(org))
    n = sum(sev.values())
    assert 0.02 < sev["SEV1"] / n < 0.10 and 0.30 < sev["SEV3"] / n < 0.50
    detect = [(i.detected - i.occurred) / 60 for i in _incidents(org) if i.detected and i.detected >= i.occurred]
    recover = [(i.recovered - i.mitigated) / 60 for i in _incidents(org)
               if i.recovered and i.mitigated and i.recovered >= i.mitigated]
    assert 8 <= statistics.median(detect) <= 25 and max(detect) > 10 * statistics.median(detect)
    assert 120 <= statistics.median(recover) <= 260
    assert statistics.mean(recover) > statistics.median(recover)  # long right tail
    assert any(i.mitigated is None and i.recovered for i in _incidents(org))
    assert {i.status for i in _incidents(org)} == {"Open", "Investigating", "Mitigated", "Closed"}


def test_postmortems_and_actions(org: Org) -> None:
    pms = [i for i in org.issues if i.kind == "postmortem"]
    actions = [i for i in org.issues if i.kind == "action"]
    assert 250 <= len(pms) <= 350 and 1000 <= len(actions) <= 1400
    on_time = sum(1 for p in pms if p.resolved and p.resolved - org.by_id[p.link_to].recovered <= 7 * 86400)
    assert 0.6 <= on_time / len(pms) <= 0.8
    assert any(p.resolved is None for p in pms)
    anchor = org.anchor.isoformat()
    open_actions = [a for a in actions if a.status in ("To Do", "In Progress")]
    assert any(a.due and a.due < anchor for a in open_actions)  # overdue
    assert any(a.due and a.due > anchor for a in open_actions)  # due in the coming weeks
    assert {a.status for a in actions} == {"To Do", "In Progress", "Done", "Won't Do"}


def test_every_defect_kind_is_planted(org: Org, manifest: dict) -> None:
    kinds = Counter(d["kind"] for d in manifest["defects"])
    for kind, minimum in DEFECT_KINDS.items():
        assert kinds[kind] >= minimum, kind
    for d in manifest["defects"]:
        assert set(d) == {"kind", "source", "stream", "key", "detail"}
        if d["source"] == "jira":
            assert d["key"] in org.by_key
    for d in manifest["defects"]:
        issue = org.by_key.get(d["key"])
        if d["kind"] == "unknown_cause_category":
            assert issue.cause not in CAUSE_CATEGORIES
        if d["kind"] == "unknown_development_category":
            assert issue.devcat not in DEVELOPMENT_CATEGORIES
        if d["kind"] == "missing_severity":
            assert issue.severity is None
        if d["kind"] == "timestamps_out_of_order":
            seq = [issue.occurred, issue.detected, issue.acknowledged, issue.mitigated, issue.recovered]
            seq = [t for t in seq if t is not None]
            assert seq != sorted(seq)
    left = [p for p in org.people if p.left]
    assert left and all(p.email.endswith("@example.com") for p in org.people)


def test_people_and_ids(org: Org) -> None:
    assert len(org.people) == 40 and len({p.email for p in org.people}) == 40
    for p in org.people:
        assert len(p.jira_account_id) == 24 and int(p.jira_account_id, 16) >= 0
        assert p.slack_id.startswith("U") and len(p.slack_id) == 11 and p.slack_id.isupper()
    assert any(p.family_ja for p in org.people)


@pytest.mark.parametrize("scale", [0.1, 2.0])
def test_counts_scale_linearly(scale: float, manifest: dict) -> None:
    counts = Sandbox(seed=7, scale=scale).manifest()["counts"]
    base = manifest["counts"]
    for stream in ("jira.incidents", "jira.postmortems", "jira.actions", "jira.versions", "notion.risk_records",
                   "slack.incident_channels", "slack.messages"):
        ratio = counts[stream] / base[stream]
        assert 0.75 * scale <= ratio <= 1.3 * scale, (stream, ratio)
    assert counts["jira.users"] == (41 if scale < 1 else round(40 * scale ** 0.5) + 1)


def test_credentials_are_not_shaped_like_real_tokens(sandbox: Sandbox) -> None:
    flat = [v for d in sandbox.credentials.values() for v in d.values()]
    assert not any(v.startswith(("xoxb-", "xoxp-", "ATATT", "secret_", "ntn_")) for v in flat)
