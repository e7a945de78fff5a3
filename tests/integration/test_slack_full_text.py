"""Freeze and resume posts from a bot that puts everything in attachments or blocks.

Webhooks and deploy bots post with an empty ``text``: before ``full_text`` such posts were
invisible to the configured patterns (no freeze, no resume). Posted through the sandbox's real
chat.postMessage, extracted over HTTP by the real extractor and classified by the real dbt models.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from shinrai import config as config_mod
from shinrai import pipeline
from shinrai.hooks.slack import SlackHook
from shinrai.load.landing import LandingStore
from shinrai.sandbox import Sandbox
from shinrai.settings import paths
from shinrai.transform import dbt

FREEZE_ATTACHMENTS = [{
    "fallback": "Release freeze: Payroll (INC-1)", "color": "#d00000", "pretext": "Release freeze",
    "title": "Deploys to Payroll are stopped", "title_link": "https://example.com/deploys",
    "fields": [{"title": "product", "value": "Payroll", "short": True},
               {"title": "incident", "value": "INC-1", "short": True}],
}]
RESUME_BLOCKS = [
    {"type": "header", "text": {"type": "plain_text", "text": "Deploys"}},
    {"type": "section", "text": {"type": "mrkdwn", "text": "Release resumed product: Payroll"}},
    {"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Open"}}]},
]


@pytest.fixture
def sb(serve: Callable[..., Sandbox], shinrai_home: Path) -> Sandbox:
    return serve(seed=11, scale=0.1)


def test_bot_posts_in_attachments_and_blocks_land_whole_and_are_classified(sb: Sandbox) -> None:
    cfg = config_mod.load()
    client = SlackHook(cfg.slack_conn_id).client
    # text left empty, as incoming webhooks and deploy bots send them
    freeze = client.chat_postMessage(channel=cfg.release_channel, text="",
                                     attachments=json.dumps(FREEZE_ATTACHMENTS))["ts"]
    resume = client.chat_postMessage(channel=cfg.release_channel, text="", blocks=json.dumps(RESUME_BLOCKS))["ts"]
    pipeline.extract_slack("run-1")

    p = paths()
    with LandingStore(p.landing_file("slack"), "slack") as store:
        landed = {sid.split(":", 1)[1]: json.loads(payload) for sid, payload in store.con.execute(
            "select source_id, payload from raw.messages").fetchall()}
    # the extractor lands the whole message: attachments, blocks and the bot's ids
    assert landed[freeze]["attachments"] == FREEZE_ATTACHMENTS and landed[freeze]["bot_id"]
    assert landed[resume]["blocks"] == RESUME_BLOCKS

    dbt.run_dbt(["run", "--select", "+int_slack_messages_classified"], p=p)
    with duckdb.connect(str(p.warehouse_file), read_only=True) as con:
        con.execute(f"attach '{p.landing_file('slack')}' as slack (read_only)")  # the staging views read it
        rows = {ts: row for ts, *row in con.execute(
            "select split_part(message_id, ':', 2), message_kind, product_label, mentioned_incident_key"
            " from intermediate.int_slack_messages_classified").fetchall()}
        full_text = dict(con.execute(
            "select split_part(message_id, ':', 2), full_text from staging.stg_slack__messages").fetchall())
    assert full_text[freeze] == "Release freeze\nDeploys to Payroll are stopped\nproduct: Payroll\nincident: INC-1"
    assert full_text[resume] == "Deploys\nRelease resumed product: Payroll"
    assert rows[freeze] == ["release_freeze", "Payroll", "INC-1"]
    assert rows[resume] == ["release_resume", "Payroll", None]
