"""Archived Slack channels in the sandbox: frozen as in Slack (no edits, deletions or posts), and the
``archive`` / ``unarchive`` knobs of ``mutate`` (issue 18)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from slack_sdk.errors import SlackApiError

from shinrai.sandbox import Sandbox

from ._support import slack_client


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    sandbox = Sandbox(seed=11, scale=0.1).start()
    yield sandbox
    sandbox.stop()


def _listed(sb: Sandbox) -> dict[str, dict]:
    client = slack_client(sb)
    out: dict[str, dict] = {}
    for page in client.conversations_list(types="public_channel,private_channel", limit=1000):
        out.update({c["id"]: c for c in page["channels"]})
    return out


def _history(sb: Sandbox, channel: str) -> list[dict]:
    return slack_client(sb).conversations_history(channel=channel, limit=999)["messages"]


def test_mutate_edits_and_deletes_only_in_channels_that_are_not_archived(sb: Sandbox) -> None:
    archived = {cid for cid, c in _listed(sb).items() if c["is_archived"] is True}
    assert archived
    before = {cid: _history(sb, cid) for cid in archived}
    result = sb.mutate(fraction=0.2, delete_fraction=0.05, seed=3)
    touched = result["changed"]["slack.messages"] + result["deleted"]["slack.messages"]
    assert touched  # the live channels still take edits and deletions
    assert not {sid.split(":", 1)[0] for sid in touched} & archived
    assert {cid: _history(sb, cid) for cid in archived} == before  # served exactly as before


def test_an_archived_channel_refuses_edits_and_posts(sb: Sandbox) -> None:
    client = slack_client(sb)
    channel = next(cid for cid, c in _listed(sb).items() if c["is_archived"] is True)
    board = _history(sb, channel)[-1]  # the incident bot's status board, its first post
    with pytest.raises(SlackApiError) as edit:
        client.chat_update(channel=channel, ts=board["ts"], text="edited in an archived channel")
    assert edit.value.response["error"] == "is_inactive"
    with pytest.raises(SlackApiError) as post:
        client.chat_postMessage(channel=channel, text="posted in an archived channel")
    assert post.value.response["error"] == "is_archived"
    assert _history(sb, channel)[-1] == board


def test_archive_and_unarchive_knobs_flip_is_archived(sb: Sandbox) -> None:
    client = slack_client(sb)
    listed = _listed(sb)
    live = next(cid for cid, c in listed.items() if c["is_archived"] is False and c["is_private"])
    frozen = next(cid for cid, c in listed.items() if c["is_archived"] is True)
    result = sb.mutate(fraction=0, archive=[live], unarchive=[frozen])
    assert result["changed"]["slack.channels"] == [live, frozen]
    listed = _listed(sb)
    assert listed[live]["is_archived"] is True and listed[frozen]["is_archived"] is False
    assert client.conversations_info(channel=live)["channel"]["is_archived"] is True
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel=live, text="too late")
    client.chat_postMessage(channel=frozen, text="back in use")
    assert _history(sb, frozen)[0]["text"] == "back in use"
    # over the control endpoint too; an unknown or already-archived channel is a 400 naming it
    url = sb.slack_url.removesuffix("/api/") + "/_sandbox/mutate"
    ok = requests.post(url, json={"fraction": 0, "unarchive": [live]}, timeout=30)
    assert ok.status_code == 200 and _listed(sb)[live]["is_archived"] is False
    bad = requests.post(url, json={"fraction": 0, "archive": [frozen, frozen]}, timeout=30)
    assert bad.status_code == 400 and frozen in bad.json()["error"]
    assert _listed(sb)[frozen]["is_archived"] is False  # a refused batch changes nothing
    missing = requests.post(url, json={"fraction": 0, "archive": ["C0NOSUCH"]}, timeout=30)
    assert missing.status_code == 400 and "C0NOSUCH" in missing.json()["error"]
