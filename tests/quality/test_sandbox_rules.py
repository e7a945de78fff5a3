"""Issue: data quality on the sandbox org. Every planted defect is reported by the rule meant for
it with the right record keys; one alert per failing run, none for a clean one; a critical
failure blocks publication; the history grows by one row per rule per run."""

from __future__ import annotations

import duckdb
import pytest

from shinrai import pipeline
from shinrai.quality import gx
from shinrai.quality.rules import DATASETS
from shinrai.settings import paths

ORDER_RULES = ("detected_after_occurred", "acknowledged_after_detected", "mitigated_after_acknowledged",
               "recovered_after_mitigated")
# planted defect kind -> the rules meant to report it (suite, rule), and their severity
RULE_FOR_DEFECT = {
    "timestamps_out_of_order": ([("stg_incidents", r) for r in ORDER_RULES], "warning"),
    "unknown_cause_category": ([("stg_incidents", "cause_category_in_taxonomy")], "warning"),
    "unknown_development_category": ([("stg_incidents", "development_category_in_taxonomy")], "warning"),
    "missing_severity": ([("stg_incidents", "severity_present")], "warning"),
    "action_without_due_date": ([("stg_actions", "action_has_due_date")], "warning"),
    "action_owner_left": ([("stg_actions", "open_action_owner_active")], "warning"),
    "stale_risk_record": ([("fct_risk_records", "open_risk_reviewed_recently")], "warning"),
    "malformed_record": ([("raw_quarantine", "quarantine_resolved")], "warning"),
}


def planted(manifest: dict, kind: str) -> set[str]:
    return {d["key"] for d in manifest["defects"] if d["kind"] == kind}


def history_rows(run_id: str | None = None) -> int:
    with duckdb.connect(str(paths().warehouse_file), read_only=True) as con:
        if run_id is None:
            return con.execute("select count(*) from quality.validation_results").fetchone()[0]
        return con.execute("select count(*) from quality.validation_results where run_id = ?", [run_id]).fetchone()[0]


def test_every_planted_defect_kind_has_a_rule(org):
    kinds = {d["kind"] for d in org.manifest["defects"]}
    assert kinds - {"duplicate_across_pages"} <= set(RULE_FOR_DEFECT)
    assert "malformed_record" in kinds  # the fixture's sandbox serves malformed records


@pytest.mark.parametrize("kind", sorted(RULE_FOR_DEFECT))
def test_planted_defect_is_reported_by_its_rule_with_its_keys(nightly, org, kind):
    report, _ = nightly
    rules, severity = RULE_FOR_DEFECT[kind]
    keys = planted(org.manifest, kind)
    assert keys, f"the sandbox planted no {kind}"
    reported: set[str] = set()
    for suite, rule in rules:
        result = report.rule(suite, rule)
        assert result.severity == severity
        reported |= set(result.failing_keys)
        assert set(result.sample_keys) <= set(result.failing_keys)
    assert keys <= reported, f"{kind}: {sorted(keys - reported)} not reported by {rules}"
    assert any(not report.rule(s, r).success for s, r in rules)


def test_each_out_of_order_incident_is_caught_by_the_pair_it_breaks(nightly, org):
    report, _ = nightly
    by_detail = {d["key"]: d["detail"] for d in org.manifest["defects"] if d["kind"] == "timestamps_out_of_order"}
    for key, detail in by_detail.items():
        rule = ("detected_after_occurred" if detail.startswith("Detected")
                else "recovered_after_mitigated" if detail.startswith("Recovered")
                else "acknowledged_after_detected")
        assert key in report.rule("stg_incidents", rule).failing_keys, detail


def test_quarantine_warning_names_reasons_and_links(nightly, org):
    report, _ = nightly
    rule = report.rule("raw_quarantine", "quarantine_resolved")
    notes = {s["record_key"]: s["record_note"] for s in rule.samples}
    urls = {s["record_key"]: s["record_url"] for s in rule.samples}
    for defect in (d for d in org.manifest["defects"] if d["kind"] == "malformed_record"):
        assert defect["stream"].split(".")[1] in notes[defect["key"]]
    jira_key = next(d["key"] for d in org.manifest["defects"]
                    if d["kind"] == "malformed_record" and d["source"] == "jira")
    assert urls[jira_key].endswith(f"/browse/{jira_key}")
    assert report.rule("raw_quarantine", "quarantine_share_below_limit").success  # a few: warning only


def test_duplicate_delivery_is_absorbed_not_double_counted(nightly, org):
    report, _ = nightly
    assert report.rule("raw_jira_issues", "issue_in_one_stream").success
    assert report.rule("mart_reconciliation", "mart_rows_match_staging").success
    with duckdb.connect(str(paths().warehouse_file), read_only=True) as con:
        for key in planted(org.manifest, "duplicate_across_pages"):
            sql = "select count(*) from marts.fct_incidents where incident_key = ?"
            assert con.execute(sql, [key]).fetchone()[0] == 1


def test_sandbox_run_has_warnings_only_and_passes_no_loss_rules(nightly):
    report, _ = nightly
    assert report.success, [f"{r.suite}.{r.rule}" for r in report.critical_failures]
    assert report.warnings
    for suite in ("mart_reconciliation", "mart_monthly_totals", "mart_freshness"):
        assert all(r.success for r in report.rules if r.suite == suite)


def test_a_failing_run_posts_exactly_one_alert_naming_rules_counts_and_records(nightly, org):
    report, posts = nightly
    assert len(posts) == 1
    body = posts[0]
    text = "\n".join(b.get("text", {}).get("text", "") for b in body["blocks"] if isinstance(b.get("text"), dict))
    assert "warnings" in body["text"] and "publication blocked" not in body["text"]
    for failed in report.warnings:
        assert f"`{failed.rule}`" in text
    missing = report.rule("stg_incidents", "severity_present")
    assert f"{missing.failing_count} records" in text
    jira = org.sandbox.jira_url.rstrip("/")
    for key in planted(org.manifest, "missing_severity"):
        assert f"<{jira}/browse/{key}|{key}>" in text
    stale = next(iter(planted(org.manifest, "stale_risk_record")))
    assert "https://www.notion.so/" in text and stale.replace("-", "") in text  # Notion page url
    assert "Data Docs" in text and str(gx.data_docs_dir()) in text


def test_history_grows_by_one_row_per_rule_per_run(nightly, org):
    report, _ = nightly
    assert history_rows("nightly-1") == len(report.rules) == sum(len(d.expectations()) for d in DATASETS.values())
    before = history_rows()
    again = gx.run_gate("marts", run_id="history-2")
    assert history_rows() == before + len(again.rules)
    gx.run_gate("marts", run_id="history-2")  # a retried task replaces its own rows
    assert history_rows() == before + len(again.rules)
    with duckdb.connect(str(paths().warehouse_file), read_only=True) as con:
        row = con.execute(
            "select severity, status, failing_count, sample_record_keys, column_name from quality.validation_results "
            "where run_id = 'nightly-1' and suite = 'stg_actions' and rule = 'action_has_due_date'"
        ).fetchone()
    assert row[0] == "warning" and row[1] == "failed" and row[2] == 3 and row[4] == "due_date"
    assert set(row[3]) == planted(org.manifest, "action_without_due_date")


def test_critical_failure_raises_blocks_publication_and_alerts_once(org, quality_config):
    quality_config("stale-extraction", freshness_max_hours=1e-6)  # every extraction (3.6 ms ago or more) is stale
    before = len(org.webhook_posts())
    with pytest.raises(pipeline.QualityGateFailed) as failed:
        pipeline.check_quality("marts")
    assert "mart_freshness.extraction_fresh" in failed.value.summary["critical_failures"]
    posts = org.webhook_posts()[before:]
    assert len(posts) == 1 and "publication blocked" in posts[0]["text"]
    status = pipeline.quality_status("marts")
    assert status is not None and status["publishable"] is False
    assert status["run_id"] == failed.value.summary["run_id"]


def test_clean_run_posts_nothing_and_allows_publication(org, quality_config):
    quality_config("clean", risk_stale_after_days=100_000)  # the one marts warning, pinned away
    before = len(org.webhook_posts())
    summary = pipeline.check_quality("marts")
    assert summary["success"] and not summary["warnings"] and not summary["critical_failures"]
    assert org.webhook_posts()[before:] == []
    assert pipeline.quality_status("marts")["publishable"] is True


def test_marts_rebuilt_after_the_last_quality_run_are_not_published(org, quality_config, tmp_path, monkeypatch):
    from shinrai.publish.publication import PublishError

    quality_config("clean", risk_stale_after_days=100_000)
    monkeypatch.setenv("SHINRAI_PUBLISH_DIR", str(tmp_path / "publish"))
    assert pipeline.check_quality("marts")["success"] and pipeline.publish_blocker() is None
    pipeline.build_marts()  # new data the gate has not seen (a hand-run rebuild, a cleared task)
    with pytest.raises(PublishError, match="rebuilt at .* after the last quality run"):
        pipeline.publish(docs=False)
    assert not (tmp_path / "publish" / "marts.duckdb").exists()
    assert pipeline.check_quality("marts")["success"]
    pipeline.publish(docs=False)
    assert (tmp_path / "publish" / "marts.duckdb").exists()
