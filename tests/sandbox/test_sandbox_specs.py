"""Responses and requests validated against the vendors' API specifications (/work/shared/specs)."""

from __future__ import annotations

import json
from functools import cache

import jsonschema
import pytest
import requests
from slack_sdk import WebClient

from shinrai.sandbox import Sandbox

from ._support import SPECS, jira_get

pytestmark = pytest.mark.skipif(not SPECS.exists(), reason="API specs not available")


@cache
def _spec(name: str) -> dict:
    return json.loads((SPECS / name).read_text())


def _jira_validator(component: str) -> jsonschema.Validator:
    spec = _spec("jira-platform-swagger-v3.v3.json")
    schema = {"$ref": f"#/components/schemas/{component}", "components": spec["components"]}
    return jsonschema.Draft202012Validator(schema)


def test_search_jql_matches_search_and_reconcile_results(sandbox: Sandbox) -> None:
    validator = _jira_validator("SearchAndReconcileResults")
    first = jira_get(sandbox, "/rest/api/3/search/jql", jql="project = INC ORDER BY updated ASC, key ASC",
                     fields="*all", expand="names,schema", maxResults=50).json()
    validator.validate(first)
    assert first["nextPageToken"] and first["isLast"] is False
    last = jira_get(sandbox, "/rest/api/3/search/jql", jql="key = INC-1", fields="summary").json()
    validator.validate(last)
    assert "nextPageToken" not in last and last["isLast"] is True
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({**first, "total": 1})  # the schema really is strict


def test_field_items_match_field_details(sandbox: Sandbox) -> None:
    validator = _jira_validator("FieldDetails")
    fields = jira_get(sandbox, "/rest/api/3/field").json()
    for item in fields:
        validator.validate(item)
    assert len(fields) > 20


def test_versions_match_version(sandbox: Sandbox) -> None:
    validator = _jira_validator("Version")
    versions = jira_get(sandbox, "/rest/api/3/project/PAY/versions").json()
    for v in versions:
        validator.validate(v)
    page = jira_get(sandbox, "/rest/api/3/project/PAY/version", maxResults=5).json()
    _jira_validator("PageBeanVersion").validate(page)


def test_issue_link_types_match_issue_link_types(sandbox: Sandbox) -> None:
    listing = jira_get(sandbox, "/rest/api/3/issueLinkType").json()
    _jira_validator("IssueLinkTypes").validate(listing)
    names = [t["name"] for t in listing["issueLinkTypes"]]
    assert len(names) == len(set(names)) and {"Relates", "Blocks"} <= set(names)


def test_users_match_user(sandbox: Sandbox) -> None:
    validator = _jira_validator("User")
    for user in jira_get(sandbox, "/rest/api/3/users/search", maxResults=5).json():
        validator.validate(user)


def test_notion_query_request_body_matches_spec(sandbox: Sandbox, manifest: dict) -> None:
    spec = _spec("notion-openapi.json")
    op = spec["paths"]["/v1/data_sources/{data_source_id}/query"]["post"]
    body_schema = {**op["requestBody"]["content"]["application/json"]["schema"], "components": spec["components"]}
    body = {
        "filter": {"and": [
            {"timestamp": "last_edited_time", "last_edited_time": {"on_or_after": "2026-01-01T00:00:00Z"}},
            {"property": "Status", "status": {"does_not_equal": "Closed"}},
        ]},
        "sorts": [{"property": "Last Reviewed", "direction": "ascending"}],
        "page_size": 100,
        "in_trash": False,
    }
    jsonschema.Draft202012Validator(body_schema).validate(body)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(body_schema).validate({**body, "page_size": "100"})
    ds = manifest["notion"]["risk_records_data_source_id"]
    r = requests.post(f"{sandbox.notion_url}/v1/data_sources/{ds}/query", json=body, timeout=10, headers={
        "Authorization": f"Bearer {sandbox.credentials['notion']['token']}", "Notion-Version": "2025-09-03"})
    assert r.status_code == 200
    results = r.json()["results"]
    reviewed = [p["properties"]["Last Reviewed"]["date"]["start"] for p in results
                if p["properties"]["Last Reviewed"]["date"]]
    assert results and reviewed == sorted(reviewed)


def test_slack_message_items_match_message_object(sandbox: Sandbox, slack: WebClient) -> None:
    spec = _spec("slack_web_openapi_v2.json")
    message = spec["definitions"]["objs_message"]
    # The 2020 spec is strict and outdated (see specs/README.md): check text/type/ts only.
    schema = {"type": "object", "required": ["text", "type", "ts"],
              "properties": {k: message["properties"][k] for k in ("text", "type", "ts")},
              "definitions": spec["definitions"]}
    validator = jsonschema.Draft4Validator(schema)
    params = {p["name"] for p in spec["paths"]["/conversations.history"]["get"]["parameters"]}
    assert {"channel", "oldest", "latest", "inclusive", "limit", "cursor"} <= params
    channels = [c for c in sandbox.org.channels if c.kind in ("incident", "release")][:3] + [
        next(c for c in sandbox.org.channels if c.kind == "release")]
    checked = 0
    for ch in channels:
        for m in slack.conversations_history(channel=ch.id, limit=200)["messages"]:
            validator.validate(m)
            checked += 1
    assert checked > 50
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({"type": "message", "text": "x", "ts": "12.5"})
