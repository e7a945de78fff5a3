"""``default_args`` every shinrai DAG shares: owner, retries, and a Slack alert on task failure.

The alert uses the Slack provider's ``SlackNotifier`` on the ``shinrai_slack_alerts`` connection
(``AIRFLOW_CONN_SHINRAI_SLACK_ALERTS``; the sandbox's in tests and the demo), posting to the
channel in the Airflow Variable ``shinrai_alerts_channel`` (default ``#reliability``). The provider
is imported only when a task fails, which keeps the DAG files quick to parse.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import BaseNotifier

ALERTS_CONN_ID = "shinrai_slack_alerts"
ALERTS_CHANNEL = "{{ var.value.get('shinrai_alerts_channel', '#reliability') }}"
ALERTS_TEXT = (
    ":red_circle: *shinrai* `{{ ti.dag_id }}.{{ ti.task_id }}` failed "
    "(run `{{ run_id }}`, try {{ ti.try_number }}): "
)
ERROR_CHARS = 500  # of the task's error text, after the rendered ``text``


class SlackFailureAlert(BaseNotifier):
    """The provider's ``SlackNotifier``, created when it is needed (on failure), not at parse time."""

    template_fields = ("text", "channel", "slack_conn_id")

    def __init__(self, *, slack_conn_id: str = ALERTS_CONN_ID, channel: str = ALERTS_CHANNEL,
                 text: str = ALERTS_TEXT) -> None:
        super().__init__()
        self.slack_conn_id = slack_conn_id
        self.channel = channel
        self.text = text

    def notifier(self) -> Any:
        from airflow.providers.slack.notifications.slack import SlackNotifier

        return SlackNotifier(slack_conn_id=self.slack_conn_id, channel=self.channel, text=self.text,
                             username="shinrai")

    def notify(self, context: Any) -> None:
        """Post ``text`` (already rendered) followed by the task's error, escaped for Slack by
        :func:`shinrai.hooks.mrkdwn.escape_mrkdwn` (no ``<!channel>`` from an exception message)
        and cut short."""
        from shinrai.hooks.mrkdwn import escape_mrkdwn

        error = context.get("exception")
        notifier = self.notifier()
        notifier.text = self.text + escape_mrkdwn("" if error is None else str(error))[:ERROR_CHARS]
        notifier.notify(context)  # the other fields are already rendered by this notifier


def default_args() -> dict[str, Any]:
    """Read when a DAG file is parsed: ``airflow.retries`` (default 2) and ``airflow.retry_delay_seconds``
    (default 120) of the configuration (a file read, no network, like the schedules' time zone)."""
    from shinrai import config as config_mod

    cfg = config_mod.load()
    return {
        "owner": "reliability",
        "retries": cfg.task_retries,
        "retry_delay": timedelta(seconds=cfg.retry_delay_seconds),
        "on_failure_callback": SlackFailureAlert(),
    }
