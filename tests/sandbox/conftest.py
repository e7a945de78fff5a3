"""Fixtures: one shared read-only sandbox, plus helpers for raw HTTP calls."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from jira import JIRA
from notion_client import Client as NotionClient
from slack_sdk import WebClient

from shinrai.sandbox import Faults, Sandbox

from ._support import jira_client, notion_client, slack_client

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def config() -> dict:
    return yaml.safe_load((REPO / "config" / "shinrai.yaml").read_text())


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    """A started scale-1.0 sandbox shared by read-only tests (never mutated)."""
    sb = Sandbox(seed=7, scale=1.0).start()
    yield sb
    sb.stop()


@pytest.fixture(scope="session")
def manifest(sandbox: Sandbox) -> dict:
    return sandbox.manifest()


@pytest.fixture
def faulty(sandbox: Sandbox) -> Iterator[Sandbox]:
    """The shared sandbox with faults reset before and after the test."""
    sandbox.set_faults(**Faults().to_dict())
    sandbox.reset_requests()
    yield sandbox
    sandbox.set_faults(**Faults().to_dict())


@pytest.fixture(scope="session")
def jira(sandbox: Sandbox) -> JIRA:
    return jira_client(sandbox)


@pytest.fixture(scope="session")
def notion(sandbox: Sandbox) -> NotionClient:
    return notion_client(sandbox)


@pytest.fixture(scope="session")
def slack(sandbox: Sandbox) -> WebClient:
    return slack_client(sandbox)
