"""The JQL evaluator on its own (no HTTP)."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from shinrai.sandbox import Org, generate_org
from shinrai.sandbox.jql import JqlError, compile_jql
from shinrai.sandbox.timefmt import JST


@pytest.fixture(scope="module")
def org() -> Org:
    return generate_org(7, 0.2)


def _run(org: Org, jql: str) -> list:
    q = compile_jql(jql, org.people)
    return q.sort([i for i in org.issues if q.predicate(i)])


def test_boolean_logic_and_lists(org: Org) -> None:
    incidents = _run(org, "project = INC AND issuetype = Incident")
    pms = _run(org, 'project = "INC" and type = "Postmortem"')
    both = _run(org, "project = INC AND (issuetype = Incident OR issuetype = Postmortem)")
    assert len(both) == len(incidents) + len(pms)
    assert len(_run(org, "project = INC AND issuetype in (Incident, Postmortem)")) == len(both)
    assert len(_run(org, "project = INC AND issuetype not in (Incident)")) == len(pms)
    actions = _run(org, 'issuetype = "Prevention Action"')
    assert len(_run(org, "project in (PAY, ATT, EXP, INV, HRC, ACC)")) == len(actions)
    open_jql = "issuetype = \"Prevention Action\" AND NOT status = Done AND status != \"Won't Do\""
    assert len(_run(org, open_jql)) == sum(1 for a in actions if a.status in ("To Do", "In Progress"))


def test_date_literals(org: Org) -> None:
    pivot = datetime(2025, 3, 1, 9, 30, tzinfo=JST)
    ms = int(pivot.timestamp() * 1000)
    a = _run(org, f"project = INC AND created >= {ms}")
    assert a == _run(org, 'project = INC AND created >= "2025/03/01 09:30"')
    assert a == _run(org, 'project = INC AND created >= "2025-03-01 00:30 UTC"')
    assert a == _run(org, 'project = INC AND created >= "2025-03-01 02:30 Europe/London"')
    assert all(i.created * 1000 >= ms for i in a)
    day = _run(org, 'project = INC AND created >= "2025-03-01" AND created < "2025-03-02"')
    assert all(to.created >= datetime(2025, 3, 1, tzinfo=JST).timestamp() for to in day)
    assert _run(org, "project = INC AND updated <= -5000w") == []


def test_order_by(org: Org) -> None:
    issues = _run(org, "project = INC ORDER BY updated ASC, key ASC")
    keys = [(i.updated, i.number) for i in issues]
    assert keys == sorted(keys)
    desc = _run(org, "project = INC ORDER BY key DESC")
    assert [i.number for i in desc] == sorted((i.number for i in desc), reverse=True)
    due = _run(org, 'issuetype = "Prevention Action" ORDER BY duedate ASC')
    dues = [i.due for i in due]
    assert dues[-1] is None and [d for d in dues if d] == sorted(d for d in dues if d)


def test_keys_ids_and_empty(org: Org) -> None:
    first = org.by_key["INC-1"]
    assert _run(org, "key = INC-1") == [first] == _run(org, f"id = {first.id}") == _run(org, "issuekey in (INC-1)")
    assert len(_run(org, "project = INC AND key <= INC-10")) == 10
    no_due = _run(org, 'issuetype = "Prevention Action" AND duedate is EMPTY')
    assert len(no_due) >= 3
    assert len(_run(org, '"Incident Level" is EMPTY AND project = INC AND issuetype = Incident')) == 2
    assert _run(org, 'cf[10040] = SEV1')  # clause names from /field work too


@pytest.mark.parametrize("jql, message", [
    ("", "Unbounded"),
    ("bogus = 1", "Field 'bogus' does not exist"),
    ("project = NOPE", "The value 'NOPE' does not exist for the field 'project'"),
    ('project = INC AND updated > "yesterday"', "Date value 'yesterday'"),
    ("project = INC AND (status = Open", "Expecting"),
    ("project = INC ORDER BY a, b", "Field 'a' does not exist"),
])
def test_errors(org: Org, jql: str, message: str) -> None:
    with pytest.raises(JqlError, match=re.escape(message)):
        compile_jql(jql, org.people)


def test_order_only_is_unbounded(org: Org) -> None:
    assert compile_jql("ORDER BY created", org.people).bounded is False
