"""Mutable runtime state shared by the three servers of one sandbox."""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass, field

from .faults import FaultInjector, Faults
from .httpbase import RequestRecord
from .model import Issue, Org
from .slack_messages import SlackContent


@dataclass
class SearchSnapshot:
    changed_at: float  # wall clock of the mutation
    previous: Issue  # what search/jql keeps serving until search_lag_s has passed
    lag: float | None = None  # this change's own indexing delay; None: the search_lag_s knob


@dataclass
class SandboxState:
    org: Org
    injector: FaultInjector
    records: list[RequestRecord] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)
    version: int = 0  # bumps on every data change (invalidates search caches)
    snapshots: dict[int, SearchSnapshot] = field(default_factory=dict)
    jira_comments: dict[str, list[dict]] = field(default_factory=dict)
    posted_messages: list[dict] = field(default_factory=list)
    mutations: int = 0
    release_posts: int | None = None  # generated freeze/resume posts (fixed per org; cached)
    slack: SlackContent | None = None
    slack_deleted: set[tuple[str, str]] = field(default_factory=set)  # (channel id, ts)
    slack_edits: dict[tuple[str, str], dict] = field(default_factory=dict)  # (channel id, ts) -> overrides
    slack_posted: dict[str, list[dict]] = field(default_factory=dict)  # channel id -> posted top-level messages
    slack_posted_replies: dict[tuple[str, str], list[dict]] = field(default_factory=dict)
    # what the servers accept: {"jira": {"email", "token"}, "notion": {"token"}, "slack": {"token"}};
    # a missing entry means the server's default (JIRA_TOKEN, NOTION_TOKEN, SLACK_TOKEN)
    credentials: dict[str, dict[str, str]] = field(default_factory=dict)
    # tokens registered on top of the credentials (Sandbox.slack_token, Sandbox.notion_token): a Slack
    # token -> its scopes; a Notion integration token -> the database ids not shared with it
    slack_tokens: dict[str, tuple[str, ...]] = field(default_factory=dict)
    notion_tokens: dict[str, frozenset[str]] = field(default_factory=dict)
    text_targets: dict[str, dict[str, str]] | None = None  # planted_text.targets(), chosen once

    def __post_init__(self) -> None:
        if self.slack is None:
            self.slack = SlackContent(self.org)

    @property
    def content(self) -> SlackContent:
        assert self.slack is not None
        return self.slack

    @property
    def faults(self) -> Faults:
        return self.injector.faults

    def bump(self) -> None:
        self.version += 1

    def remember_for_search(self, issue: Issue, now: float, lag: float | None = None) -> None:
        prev = copy.copy(issue)
        prev.linked_from = list(issue.linked_from)
        prev.extra_histories = list(issue.extra_histories or [])
        self.snapshots[issue.id] = SearchSnapshot(now, prev, lag)

    def _lag(self, snap: SearchSnapshot) -> float:
        return snap.lag if snap.lag is not None else self.faults.search_lag_s

    def search_view(self, issue: Issue, now: float | None = None) -> Issue:
        """The version of ``issue`` that search/jql serves (lags by Faults.search_lag_s)."""
        snap = self.snapshots.get(issue.id)
        if snap is None:
            return issue
        lag = self._lag(snap)
        if lag > 0 and (now if now is not None else time.time()) - snap.changed_at < lag:
            return snap.previous
        return issue

    def lag_active(self, now: float | None = None) -> bool:
        if not self.snapshots:
            return False
        t = now if now is not None else time.time()
        return any(t - s.changed_at < self._lag(s) for s in self.snapshots.values())
