"""Airflow hooks for the three sources. Credentials come only from Airflow Connections
(``AIRFLOW_CONN_SHINRAI_JIRA`` and friends); clients are created lazily on first use."""

from shinrai.hooks.jira import JiraHook
from shinrai.hooks.notion import NotionHook
from shinrai.hooks.slack import SlackHook

__all__ = ["JiraHook", "NotionHook", "SlackHook"]
