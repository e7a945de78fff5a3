"""The Slack alert of a quality run: GX's ``SlackNotificationAction`` with a renderer that names
the failing records.

GX runs a checkpoint's actions once per checkpoint run, after all its validation definitions, and
the Slack action renders every validation result into one payload: so one checkpoint run posts at
most one message (``notify_on: failure``: nothing when every rule passes). The message lists each
failing rule with its severity, how many records fail and a few record keys linked back to Jira
(``<site>/browse/<KEY>``) or the Notion page (with the record's note where the rule says its notes
carry the figures: a quarantine reason, a volume drop), and says where the Data Docs are.

The action is GX's own, posting JSON to the incoming webhook ``${SHINRAI_QUALITY_SLACK_WEBHOOK}``;
the subclass only declines to post when that variable is empty (GX would otherwise fall back to
``https://slack.com/api/chat.postMessage`` with no token).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from great_expectations.checkpoint.actions import SlackNotificationAction
from great_expectations.render.renderer.slack_renderer import SlackRenderer

from shinrai.hooks.mrkdwn import escape_mrkdwn

if TYPE_CHECKING:
    from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResult
    from great_expectations.core.run_identifier import RunIdentifier

log = logging.getLogger(__name__)

SAMPLE_KEYS = 5  # record keys shown per failing rule
SECTION_LIMIT = 2900  # Slack allows 3000 characters in a section's text
ICONS = {"critical": ":red_circle:", "warning": ":warning:", "info": ":information_source:"}


def _link(sample: dict[str, Any]) -> str:
    key = escape_mrkdwn(str(sample.get("record_key")))
    url = sample.get("record_url")
    if url and url.startswith(("http://", "https://")) and not any(c in url for c in "|<> "):
        return f"<{url}|{key}>"
    return f"`{key}`"


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


class QualitySlackRenderer(SlackRenderer):
    """One message for the whole checkpoint run; each failing rule on one line with record keys."""

    def __init__(self) -> None:
        super().__init__()
        self._counts = {"critical": 0, "warning": 0, "info": 0}
        self._docs: str | None = None

    def render(  # type: ignore[override]
        self,
        validation_result: ExpectationSuiteValidationResult,
        data_docs_pages: dict[Any, dict[str, str]] | None = None,
        notify_with: list[str] | None = None,
        validation_result_urls: list[str] | None = None,
    ) -> list[dict]:
        for page in (data_docs_pages or {}).values():
            for name, url in page.items():
                if name != "class" and url and self._docs is None:
                    self._docs = url.split("/validations/")[0].rstrip("/") + "/index.html"
        lines = []
        for item in validation_result.results:
            if item.success:
                continue
            cfg = item.expectation_config
            severity = getattr(cfg.severity, "value", str(cfg.severity))
            self._counts[severity] = self._counts.get(severity, 0) + 1
            lines.append(self._line(item, severity))
        if not lines:
            return []
        stats = validation_result.statistics
        head = (
            f"*{escape_mrkdwn(validation_result.suite_name)}*  "
            f"({stats['successful_expectations']} of {stats['evaluated_expectations']} rules passed)"
        )
        text = "\n".join([head, *lines])
        if len(text) > SECTION_LIMIT:
            text = text[: SECTION_LIMIT - 1] + "…"
        return [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]

    def _line(self, item: Any, severity: str) -> str:
        cfg = item.expectation_config
        result = item.result or {}
        rule = (cfg.meta or {}).get("rule") or cfg.type
        kwargs = cfg.kwargs
        column = kwargs.get("column") or (
            f"{kwargs['column_A']} vs {kwargs['column_B']}" if "column_A" in kwargs else ""
        )
        line = f"{ICONS.get(severity, '')} *{severity}* `{rule}`" + (f" ({escape_mrkdwn(column)})" if column else "")
        if (item.exception_info or {}).get("raised_exception"):
            message = str(item.exception_info.get("exception_message") or "")[:200]
            return f"{line}: could not be evaluated: {escape_mrkdwn(message)}"
        count = result.get("unexpected_count")
        if count is None:
            return f"{line}: observed {escape_mrkdwn(str(result.get('observed_value')))}"
        from shinrai.quality.gx import failing_rows

        rows = failing_rows(result)
        samples = []
        for row in rows[:SAMPLE_KEYS]:
            sample = {k: (None if _is_missing(v) else v) for k, v in row.items()}
            note = sample.get("record_note")
            text = _link(sample)
            if note and (cfg.meta or {}).get("show_note"):  # the note carries the figures (rules._rule)
                text += f" {escape_mrkdwn(str(note))[:120]}"
            samples.append(text)
        more = f" and {count - len(samples)} more" if count > len(samples) else ""
        noun = "record" if count == 1 else "records"
        return f"{line}: {count} {noun}: " + ", ".join(samples) + more

    def concatenate_text_blocks(
        self,
        action_name: str,
        text_blocks: list[dict],
        success: bool,
        checkpoint_name: str,
        run_id: RunIdentifier,
    ) -> dict:
        counts, docs = self._counts, self._docs
        self._counts, self._docs = {"critical": 0, "warning": 0, "info": 0}, None
        blocked = counts.get("critical", 0) > 0
        title = (
            f"Data quality {checkpoint_name}: publication blocked" if blocked
            else f"Data quality {checkpoint_name}: warnings"
        )
        summary = (
            f"{counts.get('critical', 0)} critical and {counts.get('warning', 0)} warning rules failed"
            + (": the marts are not published, the last good publication stays live." if blocked
               else "; publication goes ahead.")
        )
        run_time = datetime.fromisoformat(str(run_id.run_time))
        blocks: list[dict] = [
            {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": escape_mrkdwn(
                f"run {run_id.run_name or '-'} · {run_time:%Y-%m-%d %H:%M} UTC · {summary}")}]},
            *text_blocks[:45],
        ]
        if len(text_blocks) > 45:
            more = "(more suites failed; see Data Docs)"
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": more}})
        if docs:
            docs_text = f"*Data Docs*: `{escape_mrkdwn(docs)}`"
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": docs_text}})
        return {"text": f"{title}: {summary}", "blocks": blocks}


class QualitySlackNotificationAction(SlackNotificationAction):
    """GX's Slack action; posts nothing (and says so) when the webhook variable is empty."""

    type: Literal["shinrai_slack"] = "shinrai_slack"

    def _send_slack_notification(self, payload: dict) -> dict:
        provider = self._resolve_context().context.config_provider
        webhook = self._substitute_config_str_if_needed(self.slack_webhook, provider)
        if not webhook or webhook.startswith("${"):
            log.warning("quality alert not sent: SHINRAI_QUALITY_SLACK_WEBHOOK is not set (%s)", payload.get("text"))
            return {"slack_notification_result": "skipped: no webhook configured"}
        return super()._send_slack_notification(payload)
