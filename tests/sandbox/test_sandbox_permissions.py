"""What a token may see: Slack scopes (``x-oauth-scopes``, ``missing_scope``) and Notion databases not
shared with an integration (``object_not_found``), with the real clients and against the specs."""

from __future__ import annotations

import json

import jsonschema
import pytest
import requests
from notion_client.errors import APIResponseError
from slack_sdk.errors import SlackApiError

from shinrai.sandbox import Sandbox
from shinrai.sandbox.slack_server import DEFAULT_SCOPES

from ._support import SPECS, notion_client, slack_client

PIPELINE_SCOPES = {"channels:read", "channels:history", "groups:read", "groups:history", "users:read",
                   "users:read.email", "chat:write", "im:write", "im:history"}


def _scopes(response: object) -> set[str]:
    headers = {k.lower(): v for k, v in response.headers.items()}  # type: ignore[attr-defined]
    return {s for s in headers["x-oauth-scopes"].split(",") if s}


def _spec_error_schema(method: str) -> dict:
    spec = json.loads((SPECS / "slack_web_openapi_v2.json").read_text())
    return {**spec["paths"][f"/{method}"]["get"]["responses"]["default"]["schema"],
            "definitions": spec["definitions"]}


def test_the_default_token_holds_every_scope_the_pipeline_uses(sandbox: Sandbox) -> None:
    slack = slack_client(sandbox)
    answer = slack.auth_test()
    assert _scopes(answer) == set(DEFAULT_SCOPES) >= PIPELINE_SCOPES
    users = slack.users_list(limit=50)
    assert _scopes(users) == set(DEFAULT_SCOPES)
    assert any((u.get("profile") or {}).get("email") for u in users["members"])


def test_a_method_needing_a_scope_the_token_lacks_answers_missing_scope(sandbox: Sandbox) -> None:
    granted = sorted(PIPELINE_SCOPES - {"channels:history"})
    slack = slack_client(sandbox, sandbox.slack_token(granted))
    assert _scopes(slack.auth_test()) == set(granted)
    release = next(c for c in sandbox.org.channels if c.kind == "release")
    assert not release.is_private
    with pytest.raises(SlackApiError) as caught:
        slack.conversations_history(channel=release.id, limit=5)
    body = caught.value.response.data
    assert caught.value.response.status_code == 200  # as Slack: an error in an ok HTTP answer
    assert body == {"ok": False, "error": "missing_scope", "needed": "channels:history",
                    "provided": ",".join(granted)}
    assert _scopes(caught.value.response) == set(granted)
    if SPECS.exists():
        jsonschema.Draft4Validator(_spec_error_schema("conversations.history")).validate(body)
    # a private incident channel needs groups:history, which the token has
    incident = next(c for c in sandbox.org.channels if c.kind == "incident")
    assert incident.is_private and slack.conversations_history(channel=incident.id, limit=5)["ok"]


def test_listing_private_channels_needs_groups_read(sandbox: Sandbox) -> None:
    slack = slack_client(sandbox, sandbox.slack_token(["channels:read", "channels:history"]))
    public = slack.conversations_list(types="public_channel", limit=1000)["channels"]
    assert public and not any(c["is_private"] for c in public)
    with pytest.raises(SlackApiError) as caught:
        slack.conversations_list(types="public_channel,private_channel", limit=1000)
    assert caught.value.response["error"] == "missing_scope"
    assert caught.value.response["needed"] == "groups:read"


def test_users_carry_emails_only_with_users_read_email(sandbox: Sandbox) -> None:
    slack = slack_client(sandbox, sandbox.slack_token(["users:read"]))
    members = slack.users_list(limit=1000)["members"]
    assert members and not any("email" in (u.get("profile") or {}) for u in members)
    with pytest.raises(SlackApiError) as caught:
        slack_client(sandbox, sandbox.slack_token(["channels:read"])).users_list(limit=10)
    assert caught.value.response["needed"] == "users:read"


def test_a_database_not_shared_with_the_integration_is_object_not_found(sandbox: Sandbox, manifest: dict) -> None:
    risk_db = manifest["notion"]["risk_records_database_id"]
    risk_ds = manifest["notion"]["risk_records_data_source_id"]
    notion = notion_client(sandbox, sandbox.notion_token(unshared=[risk_db]))
    for call in (lambda: notion.databases.retrieve(database_id=risk_db),
                 lambda: notion.data_sources.retrieve(data_source_id=risk_ds),
                 lambda: notion.data_sources.query(data_source_id=risk_ds, page_size=1)):
        with pytest.raises(APIResponseError) as caught:
            call()
        assert caught.value.status == 404 and caught.value.code.value == "object_not_found"
        assert "shared with your integration" in str(caught.value)
    body = requests.get(f"{sandbox.notion_url}/v1/databases/{risk_db}", timeout=10, headers={
        "Authorization": f"Bearer {sandbox.notion_token(unshared=[risk_db])}",
        "Notion-Version": "2025-09-03"}).json()
    assert set(body) == {"object", "status", "code", "message", "request_id"}
    assert (body["object"], body["status"], body["code"]) == ("error", 404, "object_not_found")
    assert risk_db in body["message"]
    # its pages too; the other database and the default integration see everything
    page_id = notion_client(sandbox).data_sources.query(data_source_id=risk_ds, page_size=1)["results"][0]["id"]
    with pytest.raises(APIResponseError):
        notion.pages.retrieve(page_id=page_id)
    calendar = manifest["notion"]["release_calendar_database_id"]
    assert notion.databases.retrieve(database_id=calendar)["data_sources"]
    assert notion_client(sandbox).databases.retrieve(database_id=risk_db)["id"] == risk_db


def test_tokens_can_be_made_out_of_process(sandbox: Sandbox) -> None:
    made = requests.post(f"{sandbox.slack_url.removesuffix('/api/')}/_sandbox/tokens",
                         json={"server": "slack", "scopes": ["users:read"]}, timeout=10).json()
    assert _scopes(slack_client(sandbox, made["token"]).users_list(limit=1)) == {"users:read"}
    bad = requests.post(f"{sandbox.notion_url}/_sandbox/tokens", json={"server": "notion", "unshared": ["x"]},
                        timeout=10)
    assert bad.status_code == 400
