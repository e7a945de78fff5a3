"""Slack mrkdwn escaping: the one function every Slack message of shinrai uses for user text.

Slack's formatting docs require exactly three characters to be escaped in text that must not be
interpreted: ``&``, ``<`` and ``>``. With them escaped, a summary containing ``<!channel>``,
``<@U123>`` or ``<https://evil|click>`` is shown literally, never executed. (slack_sdk has no
helper for this.) The reminders (:mod:`shinrai.chase.messages`), the quality alert
(:mod:`shinrai.quality.slack`) and the task-failure alert (:mod:`shinrai.orchestration.defaults`)
all call it, so a fix here reaches every message.
"""

from __future__ import annotations


def escape_mrkdwn(text: object) -> str:
    """``text`` (None: empty) with ``&``, ``<`` and ``>`` escaped, ``&`` first."""
    return str(text if text is not None else "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
