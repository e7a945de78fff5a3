"""Out-of-process use: ``python -m shinrai.sandbox`` and the ``/_sandbox/*`` control endpoints."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest
import requests


@pytest.fixture(scope="module")
def served() -> Iterator[dict]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "shinrai.sandbox", "--scale", "0.05", "--seed", "3",
         "--jira-port", "0", "--notion-port", "0", "--slack-port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            pytest.fail(f"sandbox did not start: {proc.stderr.read() if proc.stderr else ''}")
        info = json.loads(line)
        info["proc"] = proc
        yield info
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=10)


def test_control_endpoints(served: dict) -> None:
    jira, notion, slack = served["jira_url"], served["notion_url"], served["slack_url"]
    manifest = requests.get(f"{jira}/_sandbox/manifest", timeout=10).json()
    assert manifest["seed"] == 3 and manifest["counts"]["jira.incidents"] == 20
    assert requests.get(f"{notion}/_sandbox/manifest", timeout=10).json() == manifest
    c = served["credentials"]
    r = requests.get(f"{jira}/rest/api/3/search/jql", params={"jql": "project = INC"},
                     auth=(c["jira"]["email"], c["jira"]["token"]), timeout=10)
    assert r.status_code == 200
    r = requests.post(f"{slack}chat.postMessage", json={"channel": "reliability", "text": "hello"},
                      headers={"Authorization": f"Bearer {c['slack']['token']}"}, timeout=10)
    assert r.json()["ok"] is True
    records = requests.get(f"{jira}/_sandbox/requests", timeout=10).json()
    assert [(x["server"], x["path"], x["status"]) for x in records] == [
        ("jira", "/rest/api/3/search/jql", 200), ("slack", "/api/chat.postMessage", 200)]
    assert records[0]["query"]["jql"] == "project = INC" and "token" not in records[1]["query"]
    posted = requests.get(f"{slack.removesuffix('/api/')}/_sandbox/posted", timeout=10).json()
    assert posted[0]["text"] == "hello"
    assert requests.post(f"{notion}/_sandbox/requests/reset", timeout=10).json() == {"ok": True}
    assert requests.get(f"{jira}/_sandbox/requests", timeout=10).json() == []
    faults = requests.post(f"{jira}/_sandbox/faults", json={"rate_429": 1.0, "servers": ["notion"]}, timeout=10)
    assert faults.json()["rate_429"] == 1.0
    r = requests.get(f"{notion}/v1/users", timeout=10, headers={
        "Authorization": f"Bearer {c['notion']['token']}", "Notion-Version": "2025-09-03"})
    assert r.status_code == 429 and r.json()["code"] == "rate_limited" and r.headers["Retry-After"] == "1"
    mutated = requests.post(f"{jira}/_sandbox/mutate", json={"fraction": 0.1, "delete_fraction": 0.05},
                            timeout=30).json()
    assert mutated["deleted"]["jira.incidents"]
    comments = requests.get(f"{jira}/_sandbox/comments", timeout=10)
    assert comments.status_code == 200 and comments.json() == {}


def test_stops_cleanly_on_sigterm(served: dict) -> None:
    proc = served["proc"]
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
