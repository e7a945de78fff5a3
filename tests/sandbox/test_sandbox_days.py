"""A sandbox whose past stays put: a later anchor is the same organisation a day (or a month) on.

Every record of day D is there on every later day under the same key and id (Jira issues, versions,
Notion pages, Slack channels and messages); a closed record is unchanged; a later day only adds
records and moves open ones on. Another organisation (seed, scale) or an earlier day in the same
SHINRAI_HOME makes the demo start over instead of reading as mass deletions.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from shinrai.sandbox import Org, Sandbox, generate_org
from shinrai.sandbox.home import MARKER, claim
from shinrai.sandbox.org import REFERENCE_ANCHOR
from shinrai.sandbox.slack_messages import SlackContent

SHINRAI = str(Path(sys.executable).with_name("shinrai"))
STAGES = ("status", "resolved", "created", "occurred", "detected", "acknowledged", "mitigated", "recovered",
          "assignee", "severity", "due", "started", "link_to", "product", "project")


def _records(org: Org) -> dict[str, dict]:
    content = SlackContent(org)
    messages = set()
    for ch in org.channels:
        shown = content.messages(ch)
        messages |= {(ch.id, m["ts"]) for m in shown.top}
        messages |= {(ch.id, m["ts"]) for replies in shown.replies.values() for m in replies}
    return {
        "issues": {i.key: (i.id, i.kind, i.created) for i in org.issues},
        "closed": {i.key: tuple(getattr(i, f) for f in STAGES) for i in org.issues
                   if i.status in ("Closed", "Published", "Done", "Won't Do")},
        "versions": {r.version_id: (r.page_id, r.name, r.at, r.product) for r in org.releases},
        "risks": {r.page_id: (r.created, r.status) for r in org.risks},
        "channels": {c.id: c.name for c in org.channels},
        "messages": messages,
    }


def test_a_later_day_keeps_every_record_of_the_earlier_one() -> None:
    days = [REFERENCE_ANCHOR, REFERENCE_ANCHOR + timedelta(days=1), date(2026, 11, 3), date(2026, 11, 4),
            date(2026, 12, 7)]
    orgs = [Sandbox(seed=7, scale=0.25, anchor=d) for d in days]
    records = [_records(sb.org) for sb in orgs]
    for k in range(len(days) - 1):
        day, later_day, earlier, later, sb_1, sb_2 = days[k], days[k + 1], records[k], records[k + 1], orgs[k], \
            orgs[k + 1]
        for kind in ("issues", "versions", "risks", "channels"):
            missing = {k: v for k, v in earlier[kind].items() if later[kind].get(k) != v}
            assert not missing, (day, later_day, kind, list(missing.items())[:3])
        changed = {k: v for k, v in earlier["closed"].items() if later["closed"].get(k) != v}
        assert not changed, (day, later_day, list(changed.items())[:3])
        assert earlier["messages"] <= later["messages"], (day, later_day, sorted(earlier["messages"]
                                                                                   - later["messages"])[:3])
        for stream, n in sb_1.manifest()["counts"].items():
            assert sb_2.manifest()["counts"][stream] >= n, (day, later_day, stream)
    counts = [sb.manifest()["counts"] for sb in orgs]
    assert counts[-1]["jira.postmortems"] > counts[0]["jira.postmortems"]  # a month moved things on
    assert counts[-1]["jira.actions"] > counts[0]["jira.actions"]
    for sb, rec in zip(orgs, records, strict=True):  # the manifest counts what the servers serve
        shown = sb.manifest()["counts"]
        assert shown["slack.messages"] + shown["slack.replies"] == len(rec["messages"])


def test_a_month_later_has_new_incidents_after_the_old_ones() -> None:
    ref, later = generate_org(7, 1.0), generate_org(7, 1.0, date(2026, 12, 7))
    old = {i.key for i in ref.issues if i.kind == "incident"}
    new = [i for i in later.issues if i.kind == "incident" and i.key not in old]
    assert new and min(i.created for i in new) >= ref.anchor_t
    assert min(i.id for i in new) > max(x.id for x in ref.issues)  # numbered after every earlier issue
    assert min(i.number for i in new) > max(x.number for x in ref.issues if x.project == "INC")


def test_an_anchor_before_the_reference_day_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="before 2026-11-01"):
        generate_org(7, 0.1, date(2026, 10, 31))
    env = {**os.environ, "SHINRAI_HOME": str(tmp_path / "home")}
    run = subprocess.run([SHINRAI, "demo", "--scale", "0.25", "--anchor", "2026-10-31"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode != 0
    assert run.stderr.strip().splitlines() == [
        "shinrai: --anchor 2026-10-31 is before 2026-11-01: the sandbox's history is generated up to that day "
        "and only grows after it"]
    assert not (tmp_path / "home").exists()


def test_another_organisation_or_an_earlier_day_starts_the_home_over(tmp_path: Path) -> None:
    home = tmp_path / "shinrai"
    assert claim(home, 7, 1.0, date(2026, 12, 6)) is None  # a new home
    (home / "landing").mkdir()
    (home / "landing" / "jira.duckdb").write_bytes(b"day one")
    assert claim(home, 7, 1.0, date(2026, 12, 7)) is None  # the same organisation, the next day: continues
    assert (home / "landing" / "jira.duckdb").read_bytes() == b"day one"
    assert json.loads((home / MARKER).read_text()) == {"seed": 7, "scale": 1.0, "anchor": "2026-12-07"}

    said = claim(home, 7, 0.25, date(2026, 12, 7))  # `make airflow` after `make demo`
    assert said is not None and "seed 7 at scale 1 (up to 2026-12-07)" in said and "starting over" in said
    assert not (home / "landing").exists()
    aside = next((home / "previous").iterdir())
    assert (aside / "landing" / "jira.duckdb").read_bytes() == b"day one" and str(aside) in said
    assert json.loads((home / MARKER).read_text()) == {"seed": 7, "scale": 0.25, "anchor": "2026-12-07"}

    (home / "warehouse.duckdb").write_bytes(b"x")
    said = claim(home, 7, 0.25, date(2026, 12, 1))  # an earlier day than the home has seen
    assert said is not None and "later than 2026-12-01" in said and not (home / "warehouse.duckdb").exists()
    assert len(list((home / "previous").iterdir())) == 2

    (home / MARKER).unlink()
    (home / "warehouse.duckdb").write_bytes(b"x")  # data nobody recorded (an older shinrai's demo)
    said = claim(home, 7, 0.25, date(2026, 12, 7))
    assert said is not None and "no recorded sandbox organisation" in said
