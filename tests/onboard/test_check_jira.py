"""``shinrai check`` against the sandbox served as a company's own Jira: a correct configuration
passes and shows what each stream will read; each planted mistake fails with one line naming the key."""

from __future__ import annotations

import json
import re

from shinrai.sandbox import Sandbox


def _lines(out: str, key: str) -> list[str]:
    return [line for line in out.splitlines() if re.match(rf"^(error|warning|info)\s+{re.escape(key)}:", line)]


def test_correct_config_passes_and_counts_each_stream(check, site: Sandbox) -> None:
    result = check()
    assert result.returncode == 0, result.stdout + result.stderr
    expected = site.manifest()["counts"]
    for stream in ("incidents", "postmortems", "actions"):
        n = expected[f"jira.{stream}"]
        assert n > 0
        row = [line for line in result.stdout.splitlines() if re.search(rf"\bjira\b.*\b{stream}\b", line)]
        assert row and re.search(rf"\b{n:,}\b", row[0]), (stream, n, result.stdout)
    assert not _lines(result.stdout, "connection shinrai_jira")
    assert "Traceback" not in result.stdout + result.stderr


def test_json_is_one_document_with_the_sandbox_counts(check, site: Sandbox) -> None:
    result = check("--json", "--source", "jira")
    assert result.returncode == 0, result.stdout + result.stderr
    doc = json.loads(result.stdout)
    counts = {c["stream"]: c for c in doc["counts"] if c["source"] == "jira"}
    expected = site.manifest()["counts"]
    for stream in ("incidents", "postmortems", "actions"):
        assert counts[stream]["records"] == expected[f"jira.{stream}"]
        assert counts[stream]["requests"] >= 1 and counts[stream]["seconds_paced"] >= 0
    assert doc["ok"] is True and doc["errors"] == 0
    # a sample value read for every mapped field, e.g. the severity field's
    assert "jira.fields.severity" in doc["samples"]["jira"]
    assert doc["total"]["records"] == sum(c["records"] or 0 for c in doc["counts"])


def test_misspelled_field_names_the_key_and_the_field_meant(check, shipped_config, write_config) -> None:
    right = shipped_config["jira"]["fields"]["severity"]
    shipped_config["jira"]["fields"]["severity"] = right[:-1] + right[-1].upper() + "x"
    result = check("--source", "jira", env={"SHINRAI_CONFIG": write_config(shipped_config)})
    assert result.returncode == 1, result.stdout + result.stderr
    lines = _lines(result.stdout, "jira.fields.severity")
    assert len(lines) == 1 and lines[0].startswith("error"), result.stdout
    assert f"-> set jira.fields.severity to '{right}' (customfield_" in lines[0]


def test_field_of_a_type_that_cannot_carry_the_meaning(check, shipped_config, write_config) -> None:
    right = shipped_config["jira"]["fields"]["occurred_at"]
    shipped_config["jira"]["fields"]["occurred_at"] = "Summary"  # text: not a timestamp
    result = check("--source", "jira", env={"SHINRAI_CONFIG": write_config(shipped_config)})
    assert result.returncode == 1, result.stdout + result.stderr
    lines = _lines(result.stdout, "jira.fields.occurred_at")
    assert len(lines) == 1 and lines[0].startswith("error"), result.stdout
    assert "'Summary' is a string field; a timestamp needs a datetime or date field" in lines[0]
    assert f"-> set jira.fields.occurred_at to '{right}' (customfield_" in lines[0]  # the field meant


def test_unmapped_severity_in_the_data(check, shipped_config, write_config, site: Sandbox) -> None:
    """The severity of the incident search serves twice (the sandbox's duplicate_across_pages: last of
    one page, first of the next) left out of the taxonomy: counted once per incident, over small pages."""
    twice = next(d["key"] for d in site.manifest()["defects"] if d["kind"] == "duplicate_across_pages")
    value = next(i.severity for i in site.org.issues if i.key == twice)
    assert value is not None
    severities = shipped_config["taxonomies"]["severities"]
    shipped_config["taxonomies"]["severities"] = [e for e in severities if value not in e.get("values", [e["code"]])]
    assert len(shipped_config["taxonomies"]["severities"]) == len(severities) - 1
    shipped_config["jira"]["page_size"] = 10
    result = check("--json", "--source", "jira", env={"SHINRAI_CONFIG": write_config(shipped_config)})
    assert result.returncode == 1, result.stdout + result.stderr
    doc = json.loads(result.stdout)
    errors = [f for f in doc["findings"] if f["level"] == "error"]
    assert [f["key"] for f in errors] == ["taxonomies.severities"], errors
    held = sum(1 for i in site.org.issues if i.kind == "incident" and not i.deleted and i.severity == value)
    assert held > 0
    assert errors[0]["problem"].startswith(f"{value!r} in {held} incident"), errors[0]


def test_misspelled_link_type(check, shipped_config, write_config) -> None:
    right = shipped_config["jira"]["postmortem_link_type"]
    shipped_config["jira"]["postmortem_link_type"] = right.lower() + "s"
    result = check("--source", "jira", env={"SHINRAI_CONFIG": write_config(shipped_config)})
    assert result.returncode == 1, result.stdout + result.stderr
    lines = _lines(result.stdout, "jira.postmortem_link_type")
    assert len(lines) == 1 and lines[0].startswith("error"), result.stdout
    assert lines[0].endswith(f"-> set jira.postmortem_link_type to {right!r}")


def test_jira_answering_401(check, site: Sandbox) -> None:
    conn = json.dumps({"conn_type": "jira", "host": site.jira_url, "login": site.credentials["jira"]["email"],
                       "password": "not-the-token"})
    result = check("--source", "jira", env={"AIRFLOW_CONN_SHINRAI_JIRA": conn})
    assert result.returncode == 1, result.stdout + result.stderr
    lines = _lines(result.stdout, "connection shinrai_jira")
    assert len(lines) == 1 and "HTTP 401" in lines[0] and "AIRFLOW_CONN_SHINRAI_JIRA" in lines[0], result.stdout
    assert "not-the-token" not in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_missing_connection_names_the_variable(check) -> None:
    result = check("--source", "jira", unset=("AIRFLOW_CONN_SHINRAI_JIRA",))
    assert result.returncode == 1, result.stdout + result.stderr
    lines = _lines(result.stdout, "connection shinrai_jira")
    assert len(lines) == 1 and "AIRFLOW_CONN_SHINRAI_JIRA" in lines[0], result.stdout


def test_site_answering_html(check) -> None:
    """A host that answers HTML (a maintenance or SSO page) instead of the API: one line, no traceback."""
    import http.server
    import threading

    class Page(http.server.BaseHTTPRequestHandler):
        def _page(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(b"<html><body>Down for maintenance</body></html>")

        do_GET = do_POST = _page

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        conn = json.dumps({"conn_type": "jira", "host": f"http://127.0.0.1:{server.server_port}",
                           "login": "a@example.com", "password": "x"})
        result = check("--source", "jira", env={"AIRFLOW_CONN_SHINRAI_JIRA": conn})
    finally:
        server.shutdown()
    assert result.returncode == 1, result.stdout + result.stderr
    lines = _lines(result.stdout, "connection shinrai_jira")
    assert len(lines) == 1 and "answered HTML (status 200), not the API" in lines[0], result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_a_wrong_file_is_exit_2_and_still_one_json_document(check, shipped_config, write_config) -> None:
    shipped_config["jira"]["feilds"] = shipped_config["jira"].pop("fields")
    result = check("--json", env={"SHINRAI_CONFIG": write_config(shipped_config)})
    assert result.returncode == 2, result.stdout + result.stderr
    doc = json.loads(result.stdout)
    assert doc["ok"] is False
    assert "jira.feilds" in [f["key"] for f in doc["findings"]]
