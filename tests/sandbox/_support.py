"""Helpers shared by the sandbox tests (clients and raw HTTP calls with the sandbox credentials)."""

from __future__ import annotations

from pathlib import Path

import requests
from jira import JIRA
from notion_client import Client as NotionClient
from slack_sdk import WebClient

from shinrai.sandbox import Sandbox

SPECS = Path("/work/shared/specs")


def jira_client(sb: Sandbox, token: str | None = None, version: str = "3") -> JIRA:
    c = sb.credentials["jira"]
    return JIRA(server=sb.jira_url, basic_auth=(c["email"], token or c["token"]),
                options={"rest_api_version": version})


def notion_client(sb: Sandbox, token: str | None = None) -> NotionClient:
    return NotionClient(auth=token or sb.credentials["notion"]["token"], base_url=sb.notion_url)


def slack_client(sb: Sandbox, token: str | None = None, **kw: object) -> WebClient:
    return WebClient(token=token or sb.credentials["slack"]["token"], base_url=sb.slack_url, **kw)


def jira_get(sb: Sandbox, path: str, **params: object) -> requests.Response:
    c = sb.credentials["jira"]
    return requests.get(f"{sb.jira_url}{path}", params=params, auth=(c["email"], c["token"]), timeout=30)


def jira_post(sb: Sandbox, path: str, body: object) -> requests.Response:
    c = sb.credentials["jira"]
    return requests.post(f"{sb.jira_url}{path}", json=body, auth=(c["email"], c["token"]), timeout=30)
