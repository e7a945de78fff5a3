"""The Slack probe of ``shinrai check``: the bot token (``auth.test``), the scopes it was granted (the
``x-oauth-scopes`` header every Web API answer carries) against those the configuration needs, the
channels the configuration names (found? is the app in them?), the channels a first full load reads
and a rough message count, and how long that takes under Slack's tiers in the configured
``slack.rate_mode``. Read-only: ``auth.test``, ``conversations.list``, ``users.list`` and a few
``conversations.history`` pages.

Which scope each method needs is the Slack Web API spec's (``security`` of each method in
slack_web_openapi_v2.json): public channels ``channels:*``, private ones ``groups:*``, DMs ``im:*``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from shinrai.config import Config, did_you_mean
from shinrai.extract.slack import RateMode
from shinrai.hooks.pacing import paced_seconds, slack_limit
from shinrai.hooks.retry import SourceUnavailable
from shinrai.onboard.estimate import header
from shinrai.onboard.findings import Finding, SourceReport, StreamCount

SOURCE = "slack"
USERS_PAGE = 200  # what the extractor asks users.list for
CHANNELS_PAGE = 1000  # and conversations.list
SAMPLE_CHANNELS = {"standard": 3, "non_marketplace": 1}  # history pages read for the message estimate
NON_MARKETPLACE_SECONDS = 60.0  # one conversations.history / .replies call a minute (RateMode)
SCOPE_FIX = ("add it under api.slack.com/apps > your app > OAuth & Permissions > Bot Token Scopes, reinstall the "
             "app to the workspace, and put the bot token it shows in the connection's password")


@dataclass(frozen=True)
class Need:
    scope: str
    why: str  # which method, for which part of the configuration


def needed_scopes(config: Config, read_public: bool, read_private: bool) -> list[Need]:
    """The bot token scopes the configuration needs. ``read_public`` / ``read_private``: whether the
    channels the extractor reads (the release channel, the incident channels) include public / private
    ones (unknown: pass True)."""
    needs = [
        Need("users:read", "users.list: the users stream, and finding people in Slack (people.match_by)"),
        Need("channels:read", "conversations.list of public channels"),
        Need("groups:read", "conversations.list of private channels (the extractor lists both kinds: incident "
                            "channels are often private)"),
    ]
    if "email" in config.people_match_by:
        needs.append(Need("users:read.email", "users.list shows e-mails only with it (people.match_by: email)"))
    if read_public:
        needs.append(Need("channels:history", "conversations.history/replies of the public channels read "
                                              f"(slack.release_channel {config.release_channel!r}, incident channels)"))
    if read_private:
        needs.append(Need("groups:history", "conversations.history/replies of the private channels read "
                                            "(slack.incident_channel_pattern)"))
    if not config.chaser_dry_run:
        needs += [
            Need("chat:write", "chat.postMessage: the chaser's reminders (chaser.dry_run is false)"),
            Need("im:write", "conversations.open: the chaser's direct messages to action owners"),
            Need("im:history", "conversations.history of a DM: the chaser's check, after a crash, that a reminder "
                               "went out before sending it again"),
        ]
    return needs


def probe(config: Config, hook: Any) -> SourceReport:
    """Probe the Slack workspace behind ``hook`` (a :class:`~shinrai.hooks.slack.SlackHook`)."""
    report = SourceReport(SOURCE)
    conn = f"connection {hook.slack_conn_id}"
    try:
        client = hook.client
        answer = hook.call(client.auth_test)
    except SourceUnavailable as exc:
        report.findings.append(_unavailable(conn, exc))
        return report
    except Exception as exc:  # noqa: BLE001 - the connection is undefined or lacks its token
        report.findings.append(Finding(SOURCE, conn, f"cannot be used: {exc}",
                                       f"define the connection (AIRFLOW_CONN_{hook.slack_conn_id.upper()}) with "
                                       "the bot token (xoxb-...) as its password"))
        return report
    raw_scopes = header(getattr(answer, "headers", None), "x-oauth-scopes")
    granted = None if raw_scopes is None else {s.strip() for s in raw_scopes.split(",") if s.strip()}
    if granted is None:
        report.findings.append(Finding(SOURCE, conn, "Slack's answer carries no x-oauth-scopes header, so the "
                                                     "token's scopes cannot be checked",
                                       "use a bot token (xoxb-...) of a Slack app", "warning"))

    def has(scope: str) -> bool:
        return granted is None or scope in granted

    try:
        channels = _channels(hook, has("channels:read"), has("groups:read"))
    except SourceUnavailable as exc:
        channels = []
        report.findings.append(Finding(SOURCE, conn, f"cannot list channels ({exc.cause})",
                                       "the channels and their messages were not checked", "warning"))
    wanted = [c for c in channels
              if config.incident_channel_pattern.search(c.get("name", "")) or c.get("name") == config.release_channel]
    known = bool(channels)
    read_public = not known or any(not c.get("is_private") for c in wanted) or not wanted
    read_private = known and any(c.get("is_private") for c in wanted)
    if granted is not None:
        for need in needed_scopes(config, read_public, read_private):
            if need.scope not in granted:
                report.findings.append(Finding(SOURCE, conn, f"the bot token lacks scope {need.scope} ({need.why})",
                                               f"{SCOPE_FIX}"))
    if known:
        _check_channels(config, channels, wanted, granted, report)
    _counts(config, hook, channels, wanted, has, report)
    _rate_mode(config, report)
    return report


def _unavailable(conn: str, exc: SourceUnavailable) -> Finding:
    if any(e in exc.cause for e in ("invalid_auth", "not_authed", "token_revoked", "account_inactive")):
        return Finding(SOURCE, conn, f"Slack rejected the bot token ({exc.cause.split(' (')[0]})",
                       "put the app's Bot User OAuth Token (xoxb-..., OAuth & Permissions) in the connection's "
                       "password")
    return Finding(SOURCE, conn, str(exc), "check the connection's extra.base_url (leave it out for "
                                           "https://slack.com/api/) and the network")


def _paged(hook: Any, method: str, key: str, **kwargs: Any) -> tuple[list[Any], int]:
    client = hook.client
    items: list[Any] = []
    cursor, requests = None, 0
    while True:
        args = dict(kwargs, cursor=cursor) if cursor else kwargs
        page = hook.call(lambda args=args: getattr(client, method)(**args))
        requests += 1
        items += page.get(key) or []
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            return items, requests


def _channels(hook: Any, public: bool, private: bool) -> list[dict[str, Any]]:
    """The channels the token can list (public ones need channels:read, private ones groups:read and
    the app being in them); none when it can list neither."""
    types = ",".join(t for t, ok in (("public_channel", public), ("private_channel", private)) if ok)
    if not types:
        return []
    channels, _ = _paged(hook, "conversations_list", "channels", limit=CHANNELS_PAGE, types=types)
    return [c for c in channels if isinstance(c, dict) and c.get("id")]


def _check_channels(config: Config, channels: list[dict[str, Any]], wanted: list[dict[str, Any]],
                    granted: set[str] | None, report: SourceReport) -> None:
    by_name = {c.get("name"): c for c in channels}
    names = [str(n) for n in by_name if n]
    post_anywhere = granted is not None and "chat:write.public" in granted
    named = [("slack.release_channel", config.release_channel, "read", "error"),
             ("chaser.reliability_team_channel", config.chaser_team_channel, "post",
              "warning" if config.chaser_dry_run else "error")]
    named += [(f"products.catalogue[{i}].slack_channel", str(p["slack_channel"]).lstrip("#"), "post",
               "warning" if config.chaser_dry_run else "error")
              for i, p in enumerate(config.products.catalogue) if p.get("slack_channel")]
    for key, name, use, level in named:
        channel = by_name.get(name)
        if channel is None:
            report.findings.append(Finding(
                SOURCE, key, f"no channel named {name!r} that the app can see{did_you_mean(name, names)} (a "
                             "private channel shows only once the app is in it)",
                f"set {key} to the channel's name without '#', or invite the app to it", level))
        elif not channel.get("is_member") and (use == "read" or not post_anywhere):
            what = "its messages cannot be read (not_in_channel)" if use == "read" else "the chaser cannot post there"
            report.findings.append(Finding(SOURCE, key, f"the app is not in #{name}: {what}",
                                           f"invite the app: /invite @<app> in #{name}", level))
    incidents = [c for c in wanted if c.get("name") != config.release_channel]
    if not incidents:
        report.findings.append(Finding(
            SOURCE, "slack.incident_channel_pattern",
            f"no channel the app can see matches {config.incident_channel_pattern.pattern!r}",
            "correct the pattern, or invite the app to the incident channels (private ones show only then)",
            "warning"))
    outside = [c for c in incidents if not c.get("is_member")]
    if outside:
        report.findings.append(Finding(
            SOURCE, "slack.incident_channel_pattern",
            f"the app is not in {len(outside)} of the {len(incidents)} incident channels (e.g. "
            f"#{outside[0].get('name')}): their messages cannot be read",
            "invite the app to every incident channel (or have the incident bot do it when it opens one)",
            "warning"))


def _counts(config: Config, hook: Any, channels: list[dict[str, Any]], wanted: list[dict[str, Any]],
            has: Any, report: SourceReport) -> None:
    # users (users.list, Tier 2)
    if has("users:read"):
        try:
            users, _ = _paged(hook, "users_list", "members", limit=1000)
            requests = max(1, math.ceil(len(users) / USERS_PAGE))
            report.counts.append(StreamCount(SOURCE, "users", len(users), requests,
                                             round(paced_seconds(requests, *slack_limit("users.list")), 1)))
        except SourceUnavailable as exc:
            report.findings.append(Finding(SOURCE, f"connection {hook.slack_conn_id}",
                                           f"cannot list users ({exc.cause})", SCOPE_FIX))
    if channels:
        requests = max(1, math.ceil(len(channels) / CHANNELS_PAGE))
        report.counts.append(StreamCount(SOURCE, "channels", len(channels), requests,
                                         round(paced_seconds(requests, *slack_limit("conversations.list")), 1)))
    readable = [c for c in wanted if c.get("is_member")
                and has("groups:history" if c.get("is_private") else "channels:history")]
    if not wanted:
        return
    report.counts.append(_messages(config, hook, wanted, readable, report))


def _first_page(hook: Any, channel: dict[str, Any], limit: int) -> tuple[int, int, int, bool] | None:
    """One history page of a channel: (messages, thread replies, threads, more pages?)."""
    try:
        page = hook.call(lambda: hook.client.conversations_history(channel=channel["id"], limit=limit))
    except SourceUnavailable:
        return None
    messages = [m for m in page.get("messages") or [] if isinstance(m, dict)]
    counts = [int(m.get("reply_count") or 0) for m in messages]
    return len(messages), sum(counts), sum(1 for n in counts if n), bool(page.get("has_more"))


def _messages(config: Config, hook: Any, wanted: list[dict[str, Any]], readable: list[dict[str, Any]],
              report: SourceReport) -> StreamCount:
    """The messages stream: one history page of a few readable incident channels (spread over the
    list), scaled to every incident channel read, plus the release channel's first page counted on its
    own (one long-lived channel is no sample of hundreds of short incident channels: sampled with them,
    it made the estimate 9x the sandbox's messages); records are top-level messages plus thread replies."""
    mode = config.slack_rate_mode
    limit = RateMode.for_config(mode).history_limit
    release = [c for c in readable if c.get("name") == config.release_channel]
    incident_readable = [c for c in readable if c.get("name") != config.release_channel]
    n = sum(1 for c in wanted if c.get("name") != config.release_channel)
    sample_size = min(SAMPLE_CHANNELS.get(mode, 1), len(incident_readable))
    step = len(incident_readable) / sample_size if sample_size else 1
    sample = [incident_readable[int(k * step)] for k in range(sample_size)]
    top = replies = threads = read = 0
    more = False
    for channel in sample:
        page = _first_page(hook, channel, limit)
        if page is None:
            continue
        read += 1
        top += page[0]
        replies += page[1]
        threads += page[2]
        more = more or page[3]
    history_requests = replies_requests = records = 0
    if read:
        per_channel_top = top / read
        per_channel_threads = threads / read
        per_thread = (replies / threads) if threads else 0
        history_requests = n * max(1, math.ceil(per_channel_top / limit))
        replies_requests = round(n * per_channel_threads * max(1, math.ceil((per_thread + 1) / limit)))
        records = round(n * (top + replies) / read)
    else:
        history_requests = n
    release_note = ""
    for channel in release:
        page = _first_page(hook, channel, limit)
        if page is None:
            continue
        records += page[0] + page[1]
        history_requests += 1
        replies_requests += page[2]
        release_note = f"; #{channel.get('name')}: {page[0] + page[1]}{' or more' if page[3] else ''}"
    if not read and not release_note:
        return StreamCount(SOURCE, "messages", None, history_requests,
                           _history_seconds(mode, history_requests, replies_requests))
    report.findings.append(Finding(
        SOURCE, "slack.incident_channel_pattern",
        f"about {records} messages and thread replies in {n} incident channel(s) and the release channel "
        f"(estimated from {read} incident channel(s){', whose first page held more' if more else ''}"
        f"{release_note})",
        "nothing to change", "info"))
    return StreamCount(SOURCE, "messages", records, history_requests + replies_requests,
                       _history_seconds(mode, history_requests, replies_requests))


def _history_seconds(mode: str, history: int, replies: int) -> float:
    """conversations.history and .replies are limited apart (per method): the slower of the two."""
    if mode == "non_marketplace":
        return max(0, max(history, replies) - 1) * NON_MARKETPLACE_SECONDS
    return round(max(paced_seconds(history, *slack_limit("conversations.history")),
                     paced_seconds(replies, *slack_limit("conversations.replies"))), 1)


def _rate_mode(config: Config, report: SourceReport) -> None:
    if config.slack_rate_mode == "non_marketplace":
        problem = ("non_marketplace: conversations.history/replies at 1 request a minute and 15 messages a page "
                   "(a commercially distributed app not approved for the Slack Marketplace)")
        fix = "set slack.rate_mode: standard if the app is internal (built by your company) or Marketplace-approved"
    else:
        problem = ("standard: conversations.history/replies at Tier 3 (50 a minute), 999 messages a page (internal "
                   "customer-built and Marketplace-approved apps)")
        fix = ("set slack.rate_mode: non_marketplace if the app is commercially distributed and not "
               "Marketplace-approved (1 request a minute, 15 messages a page since 2025-05-29)")
    report.findings.append(Finding(SOURCE, "slack.rate_mode", problem, fix, "info"))
