"""shinrai as an Airflow provider: the ``jira`` and ``notion`` connection types with their forms.

Airflow finds providers through the ``apache_airflow_provider`` entry point (pyproject.toml) and
calls :func:`get_provider_info`. The forms are declared here (``conn-fields`` and
``ui-field-behaviour``: Airflow 3.2 deprecated the hooks' ``get_connection_form_widgets``), so the
UI builds them without importing a hook. The UI's Test button (``[core] test_connection =
Enabled``, which ``make airflow`` sets) and ``airflow connections test`` call each hook's
``test_connection``.

Slack connections (``shinrai_slack`` and the alerts' ``shinrai_slack_alerts``) keep the Slack
provider's ``slack`` type: its form already has the bot token, the base URL (``base_url``, e.g.
the sandbox) and the timeout, its Test calls ``auth.test``, and the alerts go through that
provider's ``SlackNotifier``. A second ``slack`` registration would be ignored by Airflow (the
first provider wins), so shinrai's :class:`~shinrai.hooks.slack.SlackHook` reads the same fields.
"""

from __future__ import annotations

from typing import Any

TIMEOUT_FIELD: dict[str, Any] = {
    "label": "Timeout (seconds)",
    "schema": {"type": ["number", "null"], "minimum": 0.1},
    "description": "Optional. Seconds to wait for each answer (default 60).",
}

CONNECTION_TYPES: list[dict[str, Any]] = [
    {
        "connection-type": "jira",
        "hook-class-name": "shinrai.hooks.jira.JiraHook",
        "hook-name": "Jira Cloud (shinrai)",
        "ui-field-behaviour": {
            "hidden-fields": ["schema", "port"],
            "relabeling": {"host": "Site URL", "login": "E-mail", "password": "API token"},
            "placeholders": {
                "host": "https://your-site.atlassian.net",
                "login": "you@example.com",
                "password": "the account's Atlassian API token",
                "timeout": "60",
            },
        },
        "conn-fields": {"timeout": TIMEOUT_FIELD},
    },
    {
        "connection-type": "notion",
        "hook-class-name": "shinrai.hooks.notion.NotionHook",
        "hook-name": "Notion (shinrai)",
        "ui-field-behaviour": {
            "hidden-fields": ["schema", "port", "login"],
            "relabeling": {"host": "API base URL (optional)", "password": "Integration token"},
            "placeholders": {
                "host": "https://api.notion.com (leave empty) or the sandbox's URL",
                "password": "ntn_... (the internal integration's secret)",
                "timeout": "60",
            },
        },
        "conn-fields": {"timeout": TIMEOUT_FIELD},
    },
]


def get_provider_info() -> dict[str, Any]:
    """What Airflow's ProvidersManager reads (validated against its provider_info schema)."""
    return {
        "package-name": "shinrai",
        "name": "shinrai",
        "description": "Reliability data pipeline: Jira Cloud and Notion connection types for shinrai's hooks.",
        "integrations": [
            {"integration-name": "Jira Cloud (shinrai)", "external-doc-url":
             "https://developer.atlassian.com/cloud/jira/platform/rest/v3/", "tags": ["service"]},
            {"integration-name": "Notion (shinrai)", "external-doc-url": "https://developers.notion.com/",
             "tags": ["service"]},
        ],
        "hooks": [
            {"integration-name": "Jira Cloud (shinrai)", "python-modules": ["shinrai.hooks.jira"]},
            {"integration-name": "Notion (shinrai)", "python-modules": ["shinrai.hooks.notion"]},
        ],
        "connection-types": CONNECTION_TYPES,
    }
