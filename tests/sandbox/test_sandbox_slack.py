"""The fake Slack Web API against the real ``slack_sdk`` WebClient (3.47), unmodified."""

from __future__ import annotations

import json
import re

import pytest
import requests
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from shinrai.sandbox import Sandbox

from ._support import slack_client


def _channels(slack: WebClient, **kw: object) -> list[dict]:
    out: list[dict] = []
    for page in slack.conversations_list(**kw):
        out += page["channels"]
    return out


def _history(slack: WebClient, channel: str, **kw: object) -> list[dict]:
    out: list[dict] = []
    for page in slack.conversations_history(channel=channel, **kw):
        out += page["messages"]
    return out


def test_incident_channels_are_private_and_listed(slack: WebClient, manifest: dict, config: dict) -> None:
    public = _channels(slack, limit=50)
    assert all(not c["is_private"] for c in public)
    everything = _channels(slack, types="public_channel,private_channel", limit=150)
    pattern = re.compile(config["slack"]["incident_channel_pattern"])
    incident = [c for c in everything if pattern.match(c["name"])]
    assert len(incident) == manifest["counts"]["slack.incident_channels"] == 400
    assert all(c["is_private"] for c in incident)
    assert re.fullmatch(r"inc-\d+-(payroll|attendance|expense|invoice|hr|accounting)", incident[0]["name"])
    live = _channels(slack, types="private_channel", exclude_archived=True, limit=1000)
    assert 0 < len(live) < len(incident)  # old incident channels are archived: read them with exclude_archived=false
    names = {c["name"] for c in everything}
    assert config["slack"]["release_channel"] in names and "prod-payroll" in names


def test_history_pages_to_the_end(sandbox: Sandbox, slack: WebClient) -> None:
    ch = next(c for c in sandbox.org.channels if c.kind == "incident" and c.n_top > 20)
    messages = _history(slack, ch.id, limit=7)
    assert len(messages) == len({m["ts"] for m in messages}) == ch.n_top
    ts = [float(m["ts"]) for m in messages]
    assert ts == sorted(ts, reverse=True)  # newest first
    first = messages[-1]
    assert first.get("bot_id") and "Status board" in first["text"] and first["edited"]["ts"]
    assert any(m.get("subtype") == "channel_join" for m in messages)
    assert any("Incident response ended" in m["text"] for m in messages)
    assert all("thread_ts" not in m or m["thread_ts"] == m["ts"] for m in messages)  # no replies in history


def test_oldest_latest_inclusive(sandbox: Sandbox, slack: WebClient) -> None:
    ch = next(c for c in sandbox.org.channels if c.kind == "incident")
    messages = _history(slack, ch.id)
    ts = sorted(m["ts"] for m in messages)
    lo, hi = ts[3], ts[10]
    exclusive = _history(slack, ch.id, oldest=lo, latest=hi)
    inclusive = _history(slack, ch.id, oldest=lo, latest=hi, inclusive=True)
    assert sorted(m["ts"] for m in exclusive) == ts[4:10]
    assert sorted(m["ts"] for m in inclusive) == ts[3:11]
    assert _history(slack, ch.id, oldest=ts[-1]) == []


def test_replies_parent_first(sandbox: Sandbox, slack: WebClient, manifest: dict) -> None:
    ch = next(c for c in sandbox.org.channels if c.kind == "incident" and c.n_reply >= 4)
    parents = [m for m in _history(slack, ch.id) if m.get("reply_count")]
    assert parents and sum(p["reply_count"] for p in parents) == ch.n_reply
    parent = parents[0]
    replies: list[dict] = []
    for page in slack.conversations_replies(channel=ch.id, ts=parent["ts"], limit=2):
        assert page["messages"][0]["ts"] == parent["ts"]
        replies += page["messages"][1:]
    assert len(replies) == parent["reply_count"]
    assert all(r["thread_ts"] == parent["ts"] and r["parent_user_id"] == parent["user"] for r in replies)
    assert replies[-1]["ts"] == parent["latest_reply"]
    with pytest.raises(SlackApiError) as err:
        slack.conversations_replies(channel=ch.id, ts="1000000000.000001")
    assert err.value.response["error"] == "thread_not_found"


def test_users_list_paginates(slack: WebClient, manifest: dict) -> None:
    users: list[dict] = []
    pages = 0
    for page in slack.users_list(limit=10):
        users += page["members"]
        pages += 1
    assert pages > 1 and len(users) == manifest["counts"]["slack.users"]
    people = [u for u in users if not u["is_bot"] and u["id"] != "USLACKBOT"]
    assert all(u["profile"]["email"].endswith("@example.com") for u in people)
    assert any(u["deleted"] for u in people)


def test_bad_and_missing_tokens(sandbox: Sandbox) -> None:
    with pytest.raises(SlackApiError) as err:
        slack_client(sandbox, token="nope").auth_test()
    assert err.value.response["error"] == "invalid_auth"
    r = requests.post(f"{sandbox.slack_url}auth.test", timeout=10)
    assert r.status_code == 200 and r.json() == {"ok": False, "error": "not_authed"}
    r = requests.get(f"{sandbox.slack_url}auth.test", params={"token": sandbox.credentials["slack"]["token"]},
                     timeout=10)
    assert r.json()["ok"] is True


def test_release_freeze_posts_match_config(sandbox: Sandbox, slack: WebClient, config: dict,
                                           manifest: dict) -> None:
    with pytest.raises(SlackApiError) as err:  # read methods take IDs, not names
        slack.conversations_history(channel=config["slack"]["release_channel"])
    assert err.value.response["error"] == "channel_not_found"
    channel = next(c for c in _channels(slack, limit=1000) if c["name"] == config["slack"]["release_channel"])
    messages = _history(slack, channel["id"], limit=999)
    freeze = re.compile(config["slack"]["freeze_pattern"])
    resume = re.compile(config["slack"]["resume_pattern"])
    product = re.compile(config["slack"]["product_pattern"])
    incident = re.compile(config["slack"]["incident_pattern"])
    posts = [m for m in messages if m.get("subtype") == "bot_message" and (freeze.search(m["text"])
                                                                          or resume.search(m["text"]))]
    assert len(posts) == manifest["counts"]["slack.release_posts"] > 0
    names = {p.name for p in sandbox.org.products}
    for m in posts:
        assert m["bot_id"] and product.search(m["text"]).group("product") in names
        assert incident.search(m["text"]).group("incident").startswith("INC-")
    assert any(resume.search(m["text"]) for m in posts)
    first_freeze = min((m for m in posts if freeze.search(m["text"])), key=lambda m: float(m["ts"]))
    key = incident.search(first_freeze["text"]).group("incident")
    inc = sandbox.org.by_key[key]
    assert inc.severity in ("SEV1", "SEV2") and 0 < float(first_freeze["ts"]) - inc.created < 20 * 60


def test_post_message_json_and_form(sandbox: Sandbox, slack: WebClient) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*overdue*"}}]
    r = slack.chat_postMessage(channel="#prod-payroll", text="期限切れ / overdue", blocks=json.dumps(blocks))
    assert r["ok"] and r["message"]["text"] == "期限切れ / overdue"
    posted = sandbox.posted_messages[-1]
    assert posted["blocks"] == blocks and posted["channel"] == "#prod-payroll" and posted["ts"] == r["ts"]
    ch = next(c for c in sandbox.org.channels if c.name == "prod-payroll")
    newest = slack.conversations_history(channel=ch.id, limit=1)["messages"][0]
    assert newest["ts"] == r["ts"]
    person = next(p for p in sandbox.org.people if not p.left)
    dm = slack.chat_postMessage(channel=person.slack_id, text="reminder")
    assert dm["channel"].startswith("D")
    left = next(p for p in sandbox.org.people if p.left)
    with pytest.raises(SlackApiError) as err:
        slack.chat_postMessage(channel=left.slack_id, text="reminder")
    assert err.value.response["error"] == "channel_not_found"
    with pytest.raises(SlackApiError) as err, pytest.warns(UserWarning):
        slack.chat_postMessage(channel="prod-payroll")
    assert err.value.response["error"] == "no_text"
    updated = slack.chat_update(channel=ch.id, ts=r["ts"], text="done")
    assert updated["message"]["text"] == "done" and updated["message"]["edited"]
