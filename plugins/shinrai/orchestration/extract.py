"""One source's extraction as a nightly task runs it: the plan's arguments, and no retry for a
refused mass deletion or a configuration mistake.

A deletion sweep refused by the landing store's guard (:class:`shinrai.load.landing.MassDeletionRefused`)
would be refused again by every retry: the source lists the same records until someone fixes the
JQL, the permission or the sharing, or confirms the deletion (the ``confirm_mass_deletion`` param).
So does a name the live source does not resolve, or a field of a type that cannot carry its meaning
(:class:`shinrai.config.ConfigError`, raised before any record is read): the configuration is the
same at every retry. So the task fails at once with the one-line message, instead of after
``airflow.retries`` waits of ``airflow.retry_delay_seconds``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shinrai.orchestration.plan import extract_args


def extract(source: str, run_id: str, run: Mapping[str, Any]) -> dict:
    """``shinrai.pipeline.extract_<source>`` for a DAG run whose plan (XCom) is ``run``."""
    from shinrai import pipeline
    from shinrai.config import ConfigError
    from shinrai.load.landing import MassDeletionRefused

    step = {"jira": pipeline.extract_jira, "notion": pipeline.extract_notion, "slack": pipeline.extract_slack}[source]
    try:
        return step(run_id, **extract_args(run))
    except (MassDeletionRefused, ConfigError) as exc:
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException(str(exc)) from exc
