"""The marts built with real dbt on the sandbox organisation, extracted over HTTP by the real
extractors, against the sandbox's own manifest (what it generated and which defects it planted)."""

from __future__ import annotations

from datetime import date

import pytest
from dbt_helpers import SandboxBuild, query, scalar

from shinrai.transform import dbt

pytestmark = pytest.mark.slow

CLASSIFICATION_KINDS = ("timestamps_out_of_order", "unknown_cause_category", "unknown_development_category",
                        "missing_severity", "action_without_due_date")


def test_one_row_per_source_record(sandbox_build: SandboxBuild) -> None:
    home, manifest = sandbox_build.home, sandbox_build.manifest
    counts = manifest["counts"]
    assert scalar(home, "select count(*) from marts.fct_incidents") == counts["jira.incidents"]
    assert scalar(home, "select count(*) from marts.fct_postmortems") == counts["jira.postmortems"]
    assert scalar(home, "select count(*) from marts.fct_prevention_actions") == counts["jira.actions"]
    assert scalar(home, "select count(*) from marts.fct_risk_records") == counts["notion.risk_records"]
    assert scalar(home, "select count(*) from marts.fct_releases where version_id is not null") == counts[
        "jira.versions"]
    assert scalar(home, "select count(*) from marts.dim_products where not is_unknown_member") == 6


def test_every_planted_classification_defect_is_reported(sandbox_build: SandboxBuild) -> None:
    home, manifest = sandbox_build.home, sandbox_build.manifest
    planted = {(d["kind"], d["key"]) for d in manifest["defects"] if d["kind"] in CLASSIFICATION_KINDS}
    assert {kind for kind, _ in planted} >= {"timestamps_out_of_order", "unknown_cause_category",
                                             "unknown_development_category", "missing_severity"}
    reported = set(query(home, "select problem, record_key from marts.rpt_classification_issues"))
    assert planted <= reported, planted - reported
    # and nothing else: every reported record is one the sandbox planted a defect on
    defect_keys = {d["key"] for d in manifest["defects"]}
    assert {key for _, key in reported} <= defect_keys


def test_monthly_incident_counts_are_what_the_sandbox_generated(sandbox_build: SandboxBuild) -> None:
    """Each month's incident count equals the incidents the generator made that month, months taken
    in the configured reporting zone: a lost, doubled or wrongly bucketed incident fails (the test
    it replaces checked the generator's story, a drop after the reliability team formed)."""
    from collections import Counter
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from shinrai.config import load
    from shinrai.sandbox.org import generate_org

    home, manifest = sandbox_build.home, sandbox_build.manifest
    zone = ZoneInfo(load().timezone)
    org = generate_org(manifest["seed"], manifest["scale"], date.fromisoformat(manifest["anchor"]))
    generated = Counter(datetime.fromtimestamp(i.occurred, zone).date().replace(day=1)
                        for i in org.live_issues("incident") if i.occurred is not None)
    monthly = dict(query(home, "select month_start, sum(incident_count) from marts.rpt_reliability_monthly "
                               "group by month_start having sum(incident_count) > 0"))
    assert monthly == dict(generated)


def test_every_statistic_has_its_n(sandbox_build: SandboxBuild) -> None:
    home = sandbox_build.home
    for stage in ("detect", "acknowledge", "mitigate", "recover"):
        broken = scalar(home, f"""
            select count(*) from marts.rpt_reliability_monthly
            where (minutes_to_{stage}_n = 0) <> (minutes_to_{stage}_median is null)
               or (minutes_to_{stage}_n = 0) <> (minutes_to_{stage}_p90 is null)
               or (minutes_to_{stage}_n = 0) <> (minutes_to_{stage}_mean is null)""")
        assert broken == 0, stage
    n_total, n_incidents = query(home, "select sum(minutes_to_recover_n), sum(incident_count) "
                                       "from marts.rpt_reliability_monthly")[0]
    assert 0 < n_total < n_incidents  # some incidents have not recovered: they are left out, not zero


def test_people_who_left_are_flagged_and_routed(sandbox_build: SandboxBuild) -> None:
    home, manifest = sandbox_build.home, sandbox_build.manifest
    left_actions = {d["key"] for d in manifest["defects"] if d["kind"] == "action_owner_left"}
    assert left_actions
    flagged = {key for key, in query(home, "select action_key from marts.fct_prevention_actions "
                                          "where owner_has_left and is_open")}
    assert left_actions <= flagged
    assert scalar(home, "select count(*) from marts.rpt_overdue_actions "
                        "where owner_has_left and recipient_type = 'owner'") == 0


def test_stale_risks_and_freeze_windows(sandbox_build: SandboxBuild) -> None:
    home, manifest = sandbox_build.home, sandbox_build.manifest
    stale = {d["key"] for d in manifest["defects"] if d["kind"] == "stale_risk_record"}
    flagged = {rid for rid, in query(home, "select risk_record_id from marts.fct_risk_records where is_stale")}
    assert stale and stale <= flagged
    windows, resumed = query(home, "select count(*), count(resumed_at) from marts.fct_release_freezes")[0]
    assert windows + resumed == manifest["counts"]["slack.release_posts"]
    assert scalar(home, "select count(*) from marts.fct_release_freezes where incident_id is null") == 0
    assert scalar(home, "select count(*) from marts.fct_incidents where slack_channel_id is null") == 0


def test_change_attribution_and_slo(sandbox_build: SandboxBuild) -> None:
    home = sandbox_build.home
    assert scalar(home, "select count(*) from marts.fct_incidents where attribution_reason = 'release_window' "
                        "and not hours_after_release between 0 and 72") == 0
    # every shipped release and change failure is counted once, in its month and product, and the
    # rate is their quotient (the hand-computed rate itself: rpt_reliability_monthly's unit test)
    rolled = query(home, "select product_code, month_start, releases_count, failed_releases_count, "
                         "change_failure_rate from marts.rpt_reliability_monthly where releases_count > 0 "
                         "order by 1, 2")
    released = query(home, "select product_code, released_month, count(*), count(*) filter (where "
                           "is_change_failure) from marts.fct_releases where is_shipped group by all order by 1, 2")
    assert [r[:4] for r in rolled] == released
    assert all(rate == pytest.approx(failed / n) for _, _, n, failed, rate in rolled)
    assert any(failed for _, _, _, failed, _ in rolled)
    objectives = query(home, "select objective, window_type, count(distinct product_code) "
                             "from marts.rpt_slo_attainment group by all order by all")
    assert {(o, w) for o, w, _ in objectives} == {(o, w) for o in ("action_on_time", "availability", "mttr",
                                                                    "postmortem_on_time")
                                                  for w in ("calendar_month", "rolling_28d")}
    assert {n for _, _, n in objectives} == {6}


def test_rebuilding_changes_nothing(sandbox_build: SandboxBuild) -> None:
    home = sandbox_build.home
    published = query(home, "select * from marts.rpt_reliability_monthly_snapshots order by product_month_key")
    assert published and scalar(home, "select count(*) from marts.rpt_changes_since_last_publication") == 0
    messages = scalar(home, "select count(*) from intermediate.int_slack_messages_classified")
    # the stateful models: the incremental Slack model and the publications, and what compares them
    dbt.run_dbt(["run", "--select", "int_slack_messages_classified", "rpt_reliability_monthly_snapshots",
                 "rpt_incident_snapshots", "rpt_changes_since_last_publication"],
                sandbox_build.paths, {"as_of_date": sandbox_build.as_of_date})
    assert query(home, "select * from marts.rpt_reliability_monthly_snapshots order by product_month_key") == published
    assert scalar(home, "select count(*) from marts.rpt_changes_since_last_publication") == 0
    assert scalar(home, "select count(*) from intermediate.int_slack_messages_classified") == messages
