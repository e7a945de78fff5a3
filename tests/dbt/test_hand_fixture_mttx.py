"""A small hand-made landing (written through LandingStore, shaped like the real APIs), built with
real dbt, against figures computed by hand. Then history: late, re-classified and deleted records
after a month was published.

Reporting zone Asia/Tokyo (UTC+9); "today" is pinned to 2026-05-10, so April 2026 is closed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from dbt_helpers import query, scalar

from shinrai.extract.notion_types import NEEDS
from shinrai.load.landing import LandingStore, Record
from shinrai.settings import paths
from shinrai.transform import dbt

pytestmark = pytest.mark.slow

AS_OF = "2026-05-10"
FIELDS = {  # logical name -> this fake site's custom field id
    "severity": "customfield_20001", "introduced_at": "customfield_20002", "occurred_at": "customfield_20003",
    "detected_at": "customfield_20004", "acknowledged_at": "customfield_20005", "mitigated_at": "customfield_20006",
    "recovered_at": "customfield_20007", "product": "customfield_20008", "detection_route": "customfield_20009",
    "cause_category": "customfield_20010", "development_category": "customfield_20011",
}
PEOPLE = [  # (jira account, notion id, slack id, e-mail, name, left)
    ("acc-aoi", "n-aoi", "UAOI", "aoi@example.com", "Aoi Sato", False),
    ("acc-ren", "n-ren", "UREN", "ren@example.com", "Ren Ito", True),
]
T0 = datetime(2026, 5, 1, tzinfo=UTC)


def jts(value: str | None) -> str | None:
    """UTC ISO (2026-04-10T01:00) -> Jira's `2026-04-10T10:00:00.000+0900`."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value).replace(tzinfo=UTC).timestamp() + 9 * 3600
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0900")


def option(value: str | None) -> dict[str, str] | None:
    return None if value is None else {"value": value, "id": str(10000 + len(value))}


def user(account: str) -> dict[str, Any]:
    person = next(p for p in PEOPLE if p[0] == account)
    return {"accountId": account, "displayName": person[4], "emailAddress": person[3], "active": not person[5]}


def link(type_name: str, other_id: str, other_key: str, outward: bool) -> dict[str, Any]:
    side = "outwardIssue" if outward else "inwardIssue"
    return {"id": f"l{other_id}", "type": {"name": type_name, "inward": "has", "outward": "is"},
            side: {"id": other_id, "key": other_key}}


def issue(issue_id: str, key: str, kind: str, status: tuple[str, str], *, product: str = "Payroll",
          severity: str | None = None, times: dict[str, str | None] | None = None, cause: str | None = None,
          devcat: str | None = None, route: str | None = "System alert", links: list[dict] | None = None,
          duedate: str | None = None, resolved: str | None = None, created: str = "2026-03-01T00:00",
          assignee: str = "acc-aoi") -> Record:
    fields: dict[str, Any] = {
        "summary": f"{kind} {key}", "status": {"name": status[0], "statusCategory": {"key": status[1]}},
        "issuetype": {"name": kind}, "project": {"key": key.split("-")[0]}, "priority": {"name": "High"},
        "created": jts(created), "updated": jts(created), "resolution": {"name": "Done"} if resolved else None,
        "resolutiondate": jts(resolved), "assignee": user(assignee), "reporter": user("acc-aoi"),
        "duedate": duedate, "labels": [], "issuelinks": links or [], "parent": None, "subtasks": [],
        FIELDS["product"]: option(product),
    }
    if kind == "Incident":
        fields.update({
            FIELDS["severity"]: option(severity), FIELDS["detection_route"]: option(route),
            FIELDS["cause_category"]: option(cause), FIELDS["development_category"]: option(devcat),
        })
        for logical, value in (times or {}).items():
            fields[FIELDS[logical]] = jts(value)
    payload = {"id": issue_id, "key": key, "fields": fields}
    return Record(issue_id, key, T0, payload)


INCIDENTS = [
    # detect 10, acknowledge 5, mitigate 60, recover 130, impact 75 (2026-03-31T20:00Z is April in Tokyo)
    issue("101", "INC-1", "Incident", ("Closed", "done"), severity="SEV2", cause="Code defect",
          devcat="Regular release", resolved="2026-04-01T03:00",
          times={"occurred_at": "2026-03-31T20:00", "detected_at": "2026-03-31T20:10",
                 "acknowledged_at": "2026-03-31T20:15", "mitigated_at": "2026-03-31T21:15",
                 "recovered_at": "2026-03-31T22:10"},
          links=[link("Postmortem", "201", "INC-2", outward=False)]),
    # detect 30, acknowledge 10, no mitigation (null, not zero), recover 300 = impact; 25 h after release 1.0.0
    issue("102", "INC-3", "Incident", ("Closed", "done"), severity="SEV2", cause="Configuration error",
          devcat="Configuration change", resolved="2026-04-11T00:00",
          times={"occurred_at": "2026-04-10T01:00", "detected_at": "2026-04-10T01:30",
                 "acknowledged_at": "2026-04-10T01:40", "recovered_at": "2026-04-10T06:00"}),
    # detect 20, nothing else yet: open
    issue("103", "INC-4", "Incident", ("Investigating", "indeterminate"), severity="SEV3",
          times={"occurred_at": "2026-04-20T00:00", "detected_at": "2026-04-20T00:20"}),
    # detected before it occurred: no detect stage, flagged; severity missing; unknown cause
    issue("104", "INC-5", "Incident", ("Closed", "done"), severity=None, cause="Human error", devcat="No change",
          resolved="2026-04-26T00:00",
          times={"occurred_at": "2026-04-25T00:00", "detected_at": "2026-04-24T23:50"}),
    # another product, March
    issue("105", "INC-6", "Incident", ("Closed", "done"), product="Attendance", severity="SEV4",
          cause="Capacity", devcat="No change", resolved="2026-03-11T00:00",
          times={"occurred_at": "2026-03-10T00:00", "detected_at": "2026-03-10T00:05",
                 "acknowledged_at": "2026-03-10T00:06", "mitigated_at": "2026-03-10T00:36",
                 "recovered_at": "2026-03-10T01:05"}),
]
POSTMORTEMS = [
    # INC-1 recovered 2026-03-31T22:10Z = 1 April 07:10 Tokyo: due 8 April; published 8 April 23:59:59 Tokyo
    issue("201", "INC-2", "Postmortem", ("Published", "done"), resolved="2026-04-08T14:59:59",
          links=[link("Postmortem", "101", "INC-1", outward=True), link("Prevention", "301", "PAY-1", outward=False)]),
]
ACTIONS = [
    issue("301", "PAY-1", "Prevention Action", ("In Progress", "indeterminate"), duedate="2026-04-09",
          links=[link("Prevention", "201", "INC-2", outward=True)]),
    issue("302", "PAY-2", "Prevention Action", ("Done", "done"), duedate="2026-04-20", resolved="2026-04-20T10:00",
          links=[link("Prevention", "201", "INC-2", outward=True)], assignee="acc-ren"),
]
VERSIONS = [Record("901", "PAY", None, {"id": "901", "name": "1.0.0", "released": True, "releaseDate": "2026-04-09",
                                        "projectId": "10001", "archived": False})]


def notion_page(page_id: str, props: dict[str, Any]) -> dict[str, Any]:
    return {"object": "page", "id": page_id, "created_time": "2026-04-01T00:00:00.000Z",
            "last_edited_time": "2026-04-09T01:00:00.000Z", "archived": False, "in_trash": False,
            "url": f"https://www.notion.so/{page_id}", "properties": props}


def rich(text: str) -> list[dict[str, Any]]:
    return [{"type": "text", "text": {"content": text}, "plain_text": text}]


CALENDAR = [Record("cal-1", "ds-cal", T0, notion_page("cal-1", {
    "Release": {"id": "title", "type": "title", "title": rich("Payroll 1.0.0")},
    "Product": {"id": "p", "type": "select", "select": {"name": "Payroll"}},
    "Release At": {"id": "r", "type": "date", "date": {"start": "2026-04-09T09:00:00.000+09:00"}},
    "Type": {"id": "t", "type": "select", "select": {"name": "Regular"}},
    "Jira Version": {"id": "v", "type": "rich_text", "rich_text": rich("1.0.0")},
    "Status": {"id": "s", "type": "select", "select": {"name": "Released"}},
}))]
RISKS = [Record("risk-1", "ds-risk", T0, notion_page("risk-1", {
    "Name": {"id": "title", "type": "title", "title": rich("Memory creeping up")},
    "Status": {"id": "s", "type": "status", "status": {"name": "Open"}},
    "Priority": {"id": "p", "type": "select", "select": {"name": "High"}},
    "Assignee": {"id": "a", "type": "people", "people": [{"object": "user", "id": "n-aoi"}]},
    "Product": {"id": "pr", "type": "select", "select": {"name": "Payroll"}},
    "Recognized At": {"id": "r", "type": "date", "date": {"start": "2025-12-01"}},
    "Last Reviewed": {"id": "l", "type": "date", "date": {"start": "2025-12-20"}},
    "Dashboard": {"id": "d", "type": "url", "url": "https://grafana.example.com/d/payroll"},
    "Backlog Ticket": {"id": "b", "type": "url", "url": "https://example.atlassian.net/browse/PAY-1"},
    "Related Jira Issues": {"id": "j", "type": "rich_text", "rich_text": rich("INC-1, INC-3")},
}))]
RISK_PROPS = {"title": "Name", "status": "Status", "priority": "Priority", "assignee": "Assignee", "product": "Product",
              "recognized_at": "Recognized At", "last_reviewed_at": "Last Reviewed", "dashboard_url": "Dashboard",
              "backlog_ticket": "Backlog Ticket", "related_issues": "Related Jira Issues"}
CALENDAR_PROPS = {"title": "Release", "product": "Product", "release_at": "Release At", "release_type": "Type",
                  "jira_version": "Jira Version", "status": "Status"}


def slack_message(channel: str, ts: str, text: str, **extra: Any) -> Record:
    payload = {"type": "message", "ts": ts, "text": text, **extra}
    return Record(f"{channel}:{ts}", channel, T0, payload)


def epoch(value: str) -> str:
    return f"{datetime.fromisoformat(value).replace(tzinfo=UTC).timestamp():.6f}"


FREEZE = "🧊 *リリース停止 / Release freeze* product: Payroll incident: INC-1"
RESUME = "✅ *リリース再開 / Release resumed* product: Payroll incident: INC-1"
MESSAGES = [
    slack_message("CINC1", epoch("2026-03-31T20:12"), "<!here> インシデントを宣言します / Declaring an incident: INC-1",
                  user="UAOI"),
    slack_message("CINC1", epoch("2026-03-31T20:30"), "【状況更新 / Update】調査中", user="UAOI"),
    slack_message("CINC1", epoch("2026-03-31T20:31"), "了解です", user="UREN"),
    slack_message("CINC1", epoch("2026-03-31T22:30"), "対応終了を宣言します / Incident response ended: INC-1",
                  user="UAOI"),
    # frozen 2026-03-31T20:20Z to 23:20Z: 05:20 to 08:20 on 1 April in Tokyo, so all 3 hours are April's
    slack_message("CREL", epoch("2026-03-31T20:20"), FREEZE, subtype="bot_message", bot_id="BWF"),
    slack_message("CREL", epoch("2026-03-31T23:20"), RESUME, subtype="bot_message", bot_id="BWF"),
]


def land(home: Path) -> None:
    p = paths()
    with LandingStore(p.landing_file("jira"), "jira") as store:
        store.ensure_reference_tables()
        # (logical, id, name, type, reader, part, pick): datetime pickers and single selects
        store.replace_field_map([(logical, fid, logical.title(), kind, kind, "parent", "first")
                                 for logical, fid in FIELDS.items()
                                 for kind in ["datetime" if logical.endswith("_at") else "option"]])
        store.save_page("incidents", INCIDENTS, [], None, "hand-1")
        store.save_page("postmortems", POSTMORTEMS, [], None, "hand-1")
        store.save_page("actions", ACTIONS, [], None, "hand-1")
        store.save_page("versions", VERSIONS, [], None, "hand-1")
        store.save_page("users", [Record(a, e, None, user(a)) for a, _n, _s, e, _name, _l in PEOPLE], [], None,
                        "hand-1")
    with LandingStore(p.landing_file("notion"), "notion") as store:
        for stream, props, records in (("risk_records", RISK_PROPS, RISKS),
                                       ("release_calendar", CALENDAR_PROPS, CALENDAR)):
            store.replace_property_map(stream, [
                (k, v, k, records[0].payload["properties"][v]["type"], NEEDS[k], "start", "first")
                for k, v in props.items()])
        store.save_page("risk_records", RISKS, [], None, "hand-1")
        store.save_page("release_calendar", CALENDAR, [], None, "hand-1")
        store.save_page("users", [Record(n, e, None, {"object": "user", "id": n, "name": name, "type": "person",
                                                      "person": {"email": e}})
                                  for _a, n, _s, e, name, left in PEOPLE if not left], [], None, "hand-1")
    with LandingStore(p.landing_file("slack"), "slack") as store:
        store.save_page("users", [Record(s, e, None, {"id": s, "name": name, "real_name": name, "deleted": left,
                                                      "is_bot": False, "profile": {"email": e}})
                                  for _a, _n, s, e, name, left in PEOPLE], [], None, "hand-1")
        store.save_page("channels", [
            Record("CINC1", "inc-1-payroll", None, {"id": "CINC1", "name": "inc-1-payroll", "created": 1775000000}),
            Record("CREL", "release-announce", None, {"id": "CREL", "name": "release-announce", "created": 1700000000}),
        ], [], None, "hand-1")
        store.save_page("messages", MESSAGES, [], None, "hand-1")


@pytest.fixture(scope="module")
def built(module_home: Path) -> Path:
    dbt.ensure_landing_files()
    land(module_home)
    # seeds and models only: the data and unit tests run on the sandbox build (test_marts_on_sandbox)
    dbt.run_dbt(["build", "--resource-type", "seed", "--resource-type", "model"], extra_vars={"as_of_date": AS_OF})
    return module_home


def incident(home: Path, key: str) -> dict[str, Any]:
    with_names = query(home, "select * from marts.fct_incidents where incident_key = ?", [key])
    columns = [r[0] for r in query(home, "select column_name from information_schema.columns "
                                         "where table_schema = 'marts' and table_name = 'fct_incidents' "
                                         "order by ordinal_position")]
    return dict(zip(columns, with_names[0], strict=True))


def test_stage_minutes_computed_by_hand(built: Path) -> None:
    one, three, four, five = (incident(built, k) for k in ("INC-1", "INC-3", "INC-4", "INC-5"))
    assert (one["minutes_to_detect"], one["minutes_to_acknowledge"], one["minutes_to_mitigate"],
            one["minutes_to_recover"], one["impact_minutes"]) == (10, 5, 60, 130, 75)
    assert (three["minutes_to_detect"], three["minutes_to_acknowledge"], three["minutes_to_mitigate"],
            three["minutes_to_recover"], three["impact_minutes"]) == (30, 10, None, 300, 300)
    assert (four["minutes_to_detect"], four["minutes_to_acknowledge"], four["minutes_to_recover"]) == (20, None, None)
    assert five["minutes_to_detect"] is None and five["timestamps_in_order"] is False
    assert str(one["occurred_month"]) == "2026-04-01"  # 2026-03-31T20:00Z is April in Tokyo


def test_monthly_statistics_with_their_n(built: Path) -> None:
    cols = ["incident_count", "major_incident_count", "unclassified_severity_incident_count",
            "minutes_to_detect_median", "minutes_to_detect_p90", "minutes_to_detect_mean", "minutes_to_detect_n",
            "minutes_to_acknowledge_median", "minutes_to_acknowledge_p90", "minutes_to_acknowledge_n",
            "minutes_to_mitigate_median", "minutes_to_mitigate_n",
            "minutes_to_recover_median", "minutes_to_recover_p90", "minutes_to_recover_mean", "minutes_to_recover_n",
            "impact_minutes_total", "impact_minutes_n"]
    row = query(built, f"select {', '.join(cols)} from marts.rpt_reliability_monthly "
                       "where product_code = 'payroll' and month_start = '2026-04-01'")[0]
    got = dict(zip(cols, row, strict=True))
    # detect: 10, 30, 20 (INC-5 is out of order) -> median 20, p90 20 + 0.8 x 10 = 28, mean 20, n 3
    # acknowledge: 5, 10 -> median 7.5, p90 5 + 0.9 x 5 = 9.5, n 2; mitigate: 60 alone
    # recover: 130, 300 -> median 215, p90 130 + 0.9 x 170 = 283, mean 215, n 2; impact 75 + 300
    assert got == pytest.approx({
        "incident_count": 4, "major_incident_count": 2, "unclassified_severity_incident_count": 1,
        "minutes_to_detect_median": 20, "minutes_to_detect_p90": 28, "minutes_to_detect_mean": 20,
        "minutes_to_detect_n": 3, "minutes_to_acknowledge_median": 7.5, "minutes_to_acknowledge_p90": 9.5,
        "minutes_to_acknowledge_n": 2, "minutes_to_mitigate_median": 60, "minutes_to_mitigate_n": 1,
        "minutes_to_recover_median": 215, "minutes_to_recover_p90": 283, "minutes_to_recover_mean": 215,
        "minutes_to_recover_n": 2, "impact_minutes_total": 375, "impact_minutes_n": 2,
    })
    # by level (the shipped taxonomy's order): INC-1 and INC-3 at the second level, INC-4 at the third
    levels = query(built, "select severity_rank, incident_count from marts.rpt_severity_monthly "
                          "where product_code = 'payroll' and month_start = '2026-04-01' order by severity_rank")
    assert levels == [(1, 0), (2, 2), (3, 1), (4, 0)]
    march = query(built, "select incident_count, minutes_to_recover_median, minutes_to_recover_n "
                         "from marts.rpt_reliability_monthly where product_code = 'attendance' "
                         "and month_start = '2026-03-01'")
    assert march == [(1, 65.0, 1)]


def test_relations_postmortem_actions_release_and_freeze(built: Path) -> None:
    one = incident(built, "INC-1")
    assert (one["postmortem_key"], one["postmortem_status"], one["postmortem_is_on_time"]) == ("INC-2", "completed",
                                                                                                True)
    assert str(one["postmortem_due_date"]) == "2026-04-08"
    assert (one["action_count"], one["overdue_action_count"], one["completed_on_time_action_count"]) == (2, 1, 1)
    assert one["slack_channel_name"] == "inc-1-payroll" and one["slack_status_update_count"] == 1
    # INC-1 has "Regular release" as its development category but no earlier release: change-related only
    assert (one["is_change_related"], one["attributed_release_id"]) == (True, None)
    three = incident(built, "INC-3")
    # released 9 April 09:00 Tokyo (00:00Z, the calendar's time), occurred 10 April 01:00Z: 25 hours later
    assert (three["attribution_reason"], three["attributed_release_id"], three["hours_after_release"]) == (
        "release_window", "901", 25)
    actions = dict(query(built, "select action_key, days_overdue from marts.fct_prevention_actions"))
    assert actions == {"PAY-1": 31, "PAY-2": None}
    assert query(built, "select owner_has_left from marts.fct_prevention_actions where action_key = 'PAY-2'") == [
        (True,)]
    freezes = query(built, "select incident_key, freeze_minutes, product_code from marts.fct_release_freezes")
    assert freezes == [("INC-1", 180.0, "payroll")]
    assert scalar(built, "select release_freeze_hours from marts.rpt_reliability_monthly "
                         "where product_code = 'payroll' and month_start = '2026-04-01'") == pytest.approx(3)
    assert query(built, "select linked_incident_count, linked_action_count, is_stale from marts.fct_risk_records") == [
        (2, 1, True)]


def test_classification_issues(built: Path) -> None:
    problems = set(query(built, "select record_key, problem from marts.rpt_classification_issues"))
    assert problems == {("INC-5", "missing_severity"), ("INC-5", "unknown_cause_category"),
                        ("INC-5", "timestamps_out_of_order")}


def test_history_survives_late_and_reclassified_data(built: Path) -> None:
    published = query(built, "select product_month_key, incident_count, published_at "
                             "from marts.rpt_reliability_monthly_snapshots where month_start = '2026-04-01' order by 1")
    assert ("payroll:2026-04", 4) in [(k, n) for k, n, _ in published]
    assert scalar(built, "select count(*) from marts.rpt_changes_since_last_publication") == 0
    figures_sql = ("select figure_key, value, n, is_frozen from marts.rpt_report_figures "
                   "where month_start = '2026-04-01' order by 1")
    figures = query(built, figures_sql)
    assert figures and all(frozen for *_, frozen in figures)

    p = paths()
    late = issue("106", "INC-7", "Incident", ("Closed", "done"), severity="SEV3", cause="Capacity", devcat="No change",
                 resolved="2026-04-16T00:00", times={"occurred_at": "2026-04-15T00:00",
                                                     "detected_at": "2026-04-15T00:10"})
    rerated = issue("102", "INC-3", "Incident", ("Closed", "done"), severity="SEV1", cause="Configuration error",
                    devcat="Configuration change", resolved="2026-04-11T00:00",
                    times={"occurred_at": "2026-04-10T01:00", "detected_at": "2026-04-10T01:30",
                           "acknowledged_at": "2026-04-10T01:40", "recovered_at": "2026-04-10T06:00"})
    with LandingStore(p.landing_file("jira"), "jira") as store:
        store.save_page("incidents", [late, rerated], [], None, "hand-2")
        store.mark_deleted("incidents", ["103"], "hand-2")
    with LandingStore(p.landing_file("slack"), "slack") as store:
        store.mark_deleted("messages", [f"CREL:{epoch('2026-03-31T23:20')}"], "hand-2")  # the resume post
        store.save_page("messages", [slack_message("CREL", epoch("2026-04-01T02:20"), RESUME,
                                                   subtype="bot_message", bot_id="BWF")], [], None, "hand-2")
    dbt.run_dbt(["run"], extra_vars={"as_of_date": AS_OF})

    changes = set(query(built, "select incident_key, change_type, published_value, current_value "
                               "from marts.rpt_changes_since_last_publication"))
    assert changes == {("INC-7", "late_arriving", None, "2026-04"), ("INC-4", "removed", "2026-04", None),
                       ("INC-3", "reclassified_severity", "SEV2", "SEV1")}
    # the publication did not move; today's report did
    again = query(built, "select product_month_key, incident_count, published_at "
                         "from marts.rpt_reliability_monthly_snapshots where month_start = '2026-04-01' order by 1")
    assert again == published
    # the report's figures of April are its publication's, though the live incidents moved
    assert query(built, figures_sql) == figures
    live_detect = scalar(built, "select median(minutes_to_detect) from marts.fct_incidents "
                                "where occurred_month = '2026-04-01'")
    assert live_detect != scalar(built, "select value from marts.rpt_report_figures "
                                        "where figure_key = '2026-04:all:minutes_to_detect_median'")
    assert scalar(built, "select incident_count from marts.rpt_reliability_monthly "
                         "where product_month_key = 'payroll:2026-04'") == 4  # INC-7 in, INC-4 out
    # the incremental Slack model saw the deleted resume and the new one: 6 hours frozen now
    assert query(built, "select freeze_minutes from marts.fct_release_freezes") == [(360.0,)]
    assert scalar(built, "select count(*) from intermediate.int_slack_messages_classified") == 6

