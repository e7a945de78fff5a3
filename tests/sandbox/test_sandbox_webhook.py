"""Slack incoming webhooks: the URL is the credential; posts land in the team channel."""

from __future__ import annotations

import requests

from shinrai.sandbox import Sandbox


def test_incoming_webhook_posts_are_recorded_and_answer_ok() -> None:
    with Sandbox(seed=3, scale=0.05) as sb:
        base = sb.slack_url.removesuffix("/api/")
        r = requests.post(f"{base}/services/T000/B000/sandbox", json={"text": "quality: 2 rules failed"}, timeout=5)
        assert (r.status_code, r.text) == (200, "ok")
        posted = sb.posted_messages[-1]
        assert posted["via"] == "webhook" and posted["text"] == "quality: 2 rules failed"
        assert posted["channel"] == "reliability"
        assert requests.post(f"{base}/services/T000/B000/sandbox", json={}, timeout=5).status_code == 400
        assert requests.post(f"{base}/services/nope", json={"text": "x"}, timeout=5).status_code == 404
