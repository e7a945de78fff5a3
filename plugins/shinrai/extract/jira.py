"""Jira issue streams (incidents, postmortems, prevention actions) through enhanced search.

Incremental by ``updated``: each run asks for ``updated >= watermark - lookback`` (epoch
milliseconds, so the account's time zone cannot shift the window), ordered by ``updated, key``,
page by page with ``nextPageToken``. Every page lands together with the token for the next one,
so a killed task resumes mid-stream. Records already held unchanged are no-ops in the store.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from shinrai.config import Config, ConfigError, JiraFieldOptions, did_you_mean
from shinrai.extract.window import window_cursor_key
from shinrai.hooks.jira import JiraHook
from shinrai.load.landing import Cursor, LandingStore, Quarantined, Record

log = logging.getLogger(__name__)
CHANGELOG_WORKERS = 4  # truncated changelogs of one page fetched at once
SWEEP_PAGE_SIZE = 5000  # the deletion sweep lists ids only: the largest pages search serves

# System fields every issue stream needs; configured custom fields are added by id.
BASE_FIELDS = (
    "summary",
    "status",
    "issuetype",
    "project",
    "priority",
    "created",
    "updated",
    "resolution",
    "resolutiondate",
    "assignee",
    "reporter",
    "duedate",
    "labels",
    "issuelinks",
    "parent",
    "subtasks",
)
REQUIRED_FIELDS = ("summary", "status", "issuetype", "created", "updated")
DATETIME_LOGICAL_FIELDS = (
    "introduced_at",
    "occurred_at",
    "detected_at",
    "acknowledged_at",
    "mitigated_at",
    "recovered_at",
)
CATEGORY_LOGICAL_FIELDS = ("severity", "product", "detection_route", "cause_category", "development_category")

# How a Jira field's value is read, by what /rest/api/3/field says of it (``schema.type``, and
# ``schema.items`` for an array). The reader names are what raw.field_map stores and the staging
# macros (dbt_project/macros/jira_field.sql) branch on; each turns the issue's value into a list of
# text values (one for a single-value field), and the configured ``pick`` chooses among them.
TIMESTAMP_READERS: dict[tuple[str, str | None], str] = {
    ("datetime", None): "datetime",  # 2024-05-01T10:02:34.255+0900
    ("date", None): "date",  # 2024-05-01 (a Date Picker): midnight of that day in reporting.timezone
}
CATEGORY_READERS: dict[tuple[str, str | None], str] = {
    ("option", None): "option",  # select, radio buttons: {"value": ...}
    ("array", "option"): "option_array",  # multi-select, checkboxes: [{"value": ...}]
    ("option-with-child", None): "cascading",  # {"value": parent, "child": {"value": child}}
    ("array", "string"): "string_array",  # labels: ["a", "b"]
    ("array", "component"): "name_array",  # [{"name": ...}]
    ("array", "version"): "name_array",
    ("priority", None): "name",  # {"name": ...}
    ("version", None): "name",
    ("status", None): "name",
    ("issuetype", None): "name",
    ("resolution", None): "name",
    ("project", None): "key",  # {"key": ...}
    ("string", None): "string",  # a one-line text field
    ("number", None): "number",  # 3.0 is read "3"
    ("user", None): "user",  # {"displayName": ...}
    ("array", "user"): "user_array",
}
# What each logical field needs, the readers that can carry it, and the words of the error.
NEEDS: dict[str, tuple[str, dict[tuple[str, str | None], str], str]] = {
    **{logical: ("a timestamp", TIMESTAMP_READERS, "a datetime or date field") for logical in DATETIME_LOGICAL_FIELDS},
    **{logical: ("a category", CATEGORY_READERS,
                 "an option, array of option, option-with-child, labels (array of string), array of "
                 "component, priority, version, array of version, project, status, issuetype, resolution, "
                 "string, number, user or array of user field")
       for logical in CATEGORY_LOGICAL_FIELDS},
}
# Multi-line text is Atlassian Document Format in API v3 (an object tree, not a value to match).
RICH_TEXT_CUSTOM = "com.atlassian.jira.plugin.system.customfieldtypes:textarea"
RICH_TEXT_SYSTEM = ("description", "environment")


def field_type(entry: dict[str, Any]) -> str | None:
    """The field's type as the error and raw.field_map say it: ``option``, ``array of version``,
    ``rich text`` (a multi-line text field), None when /field gives it no schema."""
    schema = entry.get("schema")
    if not isinstance(schema, dict) or not schema.get("type"):
        return None
    if schema["type"] == "string" and (schema.get("custom") == RICH_TEXT_CUSTOM
                                       or schema.get("system") in RICH_TEXT_SYSTEM):
        return "rich text"
    if schema["type"] == "array":
        return f"array of {schema.get('items') or 'unknown'}"
    return str(schema["type"])


def reader_for(logical: str, entry: dict[str, Any]) -> str:
    """How ``logical`` is read from the Jira field ``entry`` (of /field), or ValueError saying why
    the field's type cannot carry what the logical field needs."""
    purpose, readers, accepted = NEEDS[logical]
    found = field_type(entry)
    schema = entry.get("schema") if isinstance(entry.get("schema"), dict) else {}
    key = (schema.get("type"), schema.get("items") if schema.get("type") == "array" else None)
    if found not in (None, "rich text") and key in readers:
        return readers[key]
    what = f"{_a(found)} field" if found else "a field without a type"
    raise ValueError(f"{entry.get('name', entry['id'])!r} is {what}; {purpose} needs {accepted}")


def _a(noun: str) -> str:
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"


def parse_jira_datetime(value: str) -> datetime:
    """Jira sends ``2024-05-01T10:02:34.255+0900``; Python 3.11 parses the colon-less offset."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp {value!r} has no UTC offset")
    return parsed


@dataclass(frozen=True)
class MappedField:
    """One logical field resolved against /field: where it is and how it is read."""

    logical: str
    field_id: str
    field_name: str | None
    field_type: str | None
    reader: str
    part: str = "parent"
    pick: str = "first"

    def row(self) -> tuple[str, str, str | None, str | None, str, str, str]:
        """The raw.field_map row dbt staging reads."""
        return (self.logical, self.field_id, self.field_name, self.field_type, self.reader, self.part, self.pick)


@dataclass(frozen=True)
class FieldMap:
    """Logical field -> Jira field, resolved by name (or id) against ``/rest/api/3/field``; only
    the configured logical fields are present."""

    fields: dict[str, MappedField]

    @property
    def ids(self) -> dict[str, str]:
        return {logical: mapped.field_id for logical, mapped in self.fields.items()}

    @classmethod
    def resolve(cls, config: Config, catalogue: list[dict[str, Any]]) -> FieldMap:
        by_name: dict[str, list[str]] = {}
        by_id: dict[str, dict[str, Any]] = {}
        for entry in catalogue:
            by_id[entry["id"]] = entry
            by_name.setdefault(entry.get("name", ""), []).append(entry["id"])
        fields: dict[str, MappedField] = {}
        for logical, name in config.jira_fields.items():
            key = f"jira.fields.{logical}"
            # a field id may be given directly (names are not unique across sites)
            matches = [name] if name in by_id else by_name.get(name, [])
            if not matches:
                raise ConfigError(
                    key, f"no Jira field is named {name!r}{did_you_mean(name, list(by_name))}"
                )
            if len(matches) > 1:
                raise ConfigError(
                    key, f"{len(matches)} Jira fields are named {name!r} ({', '.join(matches)}); give the id"
                )
            entry = by_id[matches[0]]
            try:
                reader = reader_for(logical, entry)
            except ValueError as exc:
                raise ConfigError(key, str(exc)) from None
            options = config.jira_field_options.get(logical) or JiraFieldOptions()
            if options.part == "child" and reader != "cascading":
                raise ConfigError(f"{key}.part", f"{entry.get('name', entry['id'])!r} is "
                                  f"{_a(field_type(entry) or 'untyped')} field, not a cascading select "
                                  "(option-with-child): only a cascading select has a child")
            fields[logical] = MappedField(logical, entry["id"], entry.get("name"), field_type(entry), reader,
                                          options.part, options.pick)
        return cls(fields)

    def request_fields(self) -> list[str]:
        return list(BASE_FIELDS) + sorted(set(self.ids.values()) - set(BASE_FIELDS))


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


def _is_object_with(attribute: str) -> Any:
    return lambda value: isinstance(value, dict) and isinstance(value.get(attribute), str)


def _is_list_of(check: Any) -> Any:
    return lambda value: isinstance(value, list) and all(check(v) for v in value)


def _is_timestamp(value: Any) -> bool:
    try:
        parse_jira_datetime(value)
    except (TypeError, ValueError):
        return False
    return True


def _is_date(value: Any) -> bool:
    try:  # exactly yyyy-mm-dd: fromisoformat also takes 20240501
        return isinstance(value, str) and len(value) == 10 and bool(date.fromisoformat(value))
    except ValueError:
        return False


def _is_cascade(value: Any) -> bool:
    child = value.get("child") if isinstance(value, dict) else None
    return _is_object_with("value")(value) and (child is None or _is_object_with("value")(child))


# What a value of each reader must look like (what the staging macro reads out of it), and the words
# of the quarantine reason. An issue whose mapped field is null or absent is fine (the column is NULL).
VALUE_SHAPES: dict[str, tuple[Any, str]] = {
    "datetime": (_is_timestamp, "a timestamp"),
    "date": (_is_date, "a date (yyyy-mm-dd)"),
    "option": (_is_object_with("value"), "an option (an object with a 'value')"),
    "option_array": (_is_list_of(_is_object_with("value")), "a list of options"),
    "cascading": (_is_cascade, "a cascading option (a 'value' and an optional 'child' with a 'value')"),
    "string_array": (_is_list_of(_is_text), "a list of strings"),
    "name_array": (_is_list_of(_is_object_with("name")), "a list of objects with a 'name'"),
    "name": (_is_object_with("name"), "an object with a 'name'"),
    "key": (_is_object_with("key"), "an object with a 'key'"),
    "string": (_is_text, "a string"),
    "number": (lambda v: isinstance(v, int | float) and not isinstance(v, bool), "a number"),
    "user": (_is_object_with("displayName"), "a user (an object with a 'displayName')"),
    "user_array": (_is_list_of(_is_object_with("displayName")), "a list of users"),
}


def validate_issue(issue: Any, fields: FieldMap) -> str | None:
    """Return why an issue cannot be landed, or None when it is well formed (every part the
    extractor reads is checked, so one odd issue is quarantined rather than stopping the stream)."""
    if not isinstance(issue, dict):
        return "issue is not a JSON object"
    for key in ("id", "key", "fields"):
        if not issue.get(key):
            return f"missing {key!r}"
    if not isinstance(issue["key"], str):
        return f"'key' {issue['key']!r} is not a string"
    body = issue["fields"]
    if not isinstance(body, dict):
        return "'fields' is not an object"
    changelog = issue.get("changelog")
    if changelog is not None and not (
            isinstance(changelog, dict) and isinstance(changelog.get("histories") or [], list)
            and all(isinstance(h, dict) for h in changelog.get("histories") or [])):
        return "'changelog' is not an object with a list of histories"
    for name in REQUIRED_FIELDS:
        if body.get(name) in (None, ""):
            return f"missing required field {name!r}"
    for name in ("created", "updated"):
        try:
            parse_jira_datetime(body[name])
        except (TypeError, ValueError):
            return f"field {name!r} value {body[name]!r} is not a timestamp"
    for logical, mapped in fields.fields.items():
        value = body.get(mapped.field_id)
        if value is None:
            continue
        check, what = VALUE_SHAPES[mapped.reader]
        if not check(value):
            return f"field {logical} ({mapped.field_id}) value {_short(value)} is not {what}"
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _jql_hash(jql: str) -> str:
    return hashlib.sha256(jql.encode()).hexdigest()[:16]


def _range_text(low: int | None, high: int | None) -> str:
    return f"{'' if low is None else low + 1}..{'' if high is None else high}"


@dataclass
class SweepPlan:
    """Which id ranges of an issue stream the deletion sweep lists, and when each was last listed.

    Range ``i`` holds the ids in ``(bounds[i-1], bounds[i]]`` (the first has no lower bound, the
    last no upper one). Like Slack's resweep, range ``i`` has a slot every ``days`` days (day
    ``i % days`` of the cycle) and is due once its latest slot has passed since it was last listed:
    each range is listed once every ``days`` days, about 1/``days`` of them a night. Bounds are
    fixed once set, so an id never changes range (and so slot) as issues come and go; new issues
    land in the last range, which is split when it outgrows its share.
    """

    bounds: list[int]
    swept: list[str | None]  # per range: when it was last listed whole (ISO), None = never
    jql_hash: str

    @classmethod
    def load(cls, state: dict[str, Any], jql: str) -> SweepPlan:
        """The plan saved in ``state``; every range is due again when the stream's JQL changed
        since (what we hold may no longer match it: list it all now, guarded)."""
        bounds = [int(b) for b in state.get("bounds") or []]
        swept = list(state.get("swept") or [])
        if len(swept) != len(bounds) + 1 or state.get("jql_hash") != _jql_hash(jql):
            swept = [None] * (len(bounds) + 1)
        return cls(bounds, swept, _jql_hash(jql))

    def state(self) -> dict[str, Any]:
        return {"bounds": self.bounds, "swept": self.swept, "jql_hash": self.jql_hash}

    def rebalance(self, ids: list[int], days: int) -> None:
        """Set the bounds the first time (``days`` ranges of the ``ids`` held, ascending), else
        split the last range while it holds more than its share (so a night lists at most about two
        shares: its range and, now and then, the growing last one)."""
        if days <= 1 or not ids:
            return
        share = -(-len(ids) // days)
        if not self.bounds:
            self.bounds = [ids[k * share - 1] for k in range(1, days) if k * share < len(ids)]
            self.swept = [self.swept[-1]] * (len(self.bounds) + 1)
            return
        top = [i for i in ids if i > self.bounds[-1]]
        while len(top) > share:
            self.bounds.append(top[share - 1])
            self.swept.append(self.swept[-1])
            top = top[share:]

    def due(self, now: datetime, days: int) -> list[int]:
        if days == 0:  # 0: the whole site every run
            return list(range(len(self.swept)))
        period = days * 86400
        out = []
        for index, last in enumerate(self.swept):
            offset = (index % days) * 86400
            latest_slot = (now.timestamp() - offset) // period * period + offset
            if last is None or datetime.fromisoformat(last).timestamp() < latest_slot:
                out.append(index)
        return out

    def listings(self, due: list[int]) -> list[tuple[int | None, int | None]]:
        """One listing ``(low, high]`` per run of adjacent due ranges (all due: one, unbounded)."""
        out: list[tuple[int | None, int | None]] = []
        for index in due:
            low = self.bounds[index - 1] if index else None
            high = self.bounds[index] if index < len(self.bounds) else None
            if out and out[-1][1] is not None and out[-1][1] == low:
                out[-1] = (out[-1][0], high)
            else:
                out.append((low, high))
        return out

    def mark_swept(self, due: list[int], now: datetime) -> None:
        for index in due:
            self.swept[index] = now.isoformat()


@dataclass
class StreamStats:
    pages: int = 0
    seen: int = 0
    changed: int = 0
    quarantined: int = 0
    deleted: int = 0  # changed issues that answered 404 (:meth:`JiraIssueExtractor.gone_since`)


class JiraIssueExtractor:
    """Extract one configured issue stream into the Jira landing file."""

    def __init__(self, config: Config, hook: JiraHook, store: LandingStore):
        self.config = config
        self.hook = hook
        self.store = store
        self._fields: FieldMap | None = None
        self._fields_lock = threading.Lock()  # the streams run in threads; /field is read once
        self._fields_error: Exception | None = None

    @property
    def fields(self) -> FieldMap:
        """The configured fields, resolved once by ``/field`` (the first stream to ask reads it;
        the others wait). If that fails (a wrong token, Jira down), every stream fails with the
        same error, without asking again."""
        with self._fields_lock:
            if self._fields is not None:
                return self._fields
            if self._fields_error is not None:
                raise self._fields_error
            try:
                return self._resolve_fields()
            except Exception as exc:
                self._fields_error = exc
                raise

    def _resolve_fields(self) -> FieldMap:
        client = self.hook.client
        catalogue = self.hook.call(client.fields)
        # Seed the client's own name->id cache exactly as its _update_fields_cache would, so
        # enhanced_search_issues does not fetch /field a second time.
        client._fields_cache_value = {
            name: entry["id"] for entry in catalogue for name in entry.get("clauseNames", [])
        }
        self._fields = FieldMap.resolve(self.config, catalogue)
        self.store.replace_field_map([mapped.row() for mapped in self._fields.fields.values()])
        return self._fields

    def jql(self, stream: str, since: datetime | None, until: datetime | None = None) -> str:
        base = f"({self.config.jira_jql[stream]})"
        if since:  # epoch milliseconds: immune to the searching account's time zone
            base += f" AND updated >= {int(since.timestamp() * 1000)}"
        if until:
            base += f" AND updated < {int(until.timestamp() * 1000)}"
        return f"{base} ORDER BY updated ASC, key ASC"

    def run(self, stream: str, run_id: str, *, full_refresh: bool = False,
            window: tuple[datetime, datetime] | None = None) -> StreamStats:
        """Land the stream's changes since its watermark (everything with ``full_refresh``).

        ``window`` (start, end) instead re-reads the issues updated in ``[start - lookback, end)``
        (a backfill): the stream's watermark is left alone, and the re-read keeps its own cursor
        (``<stream>@<start>/<end>``) so an interrupted one resumes from its saved page token.
        """
        if stream not in self.config.jira_jql:
            raise ConfigError(f"jira.jql.{stream}", "is not configured")
        self.store.ensure_stream(stream)
        fields = self.fields.request_fields()
        cursor_key = stream if window is None else window_cursor_key(stream, window)
        cursor = Cursor() if full_refresh and window is None else self.store.cursor(cursor_key)
        lookback = timedelta(minutes=self.config.jira_lookback_minutes)
        if window is None:
            since, until = (cursor.watermark - lookback if cursor.watermark else None), None
        else:
            since, until = window[0] - lookback, window[1]
        jql = self.jql(stream, since, until)
        token = None
        max_updated = cursor.watermark
        resume = cursor.in_progress
        if (resume.get("jql_hash") == _jql_hash(self.config.jira_jql[stream]) and resume.get("jql")
                and (window is None or resume["jql"] == jql)):
            jql, token = resume["jql"], resume.get("next_page_token")
            if resume.get("max_updated"):
                max_updated = datetime.fromisoformat(resume["max_updated"])
            log.info("jira %s: resuming mid-stream from a saved page token", stream)
        stats = StreamStats()
        seen_tokens: set[str] = set()
        seen_ids: set[str] = set()
        client = self.hook.client

        def fetch(token: str | None) -> dict[str, Any]:
            return self.hook.call(
                lambda: client.enhanced_search_issues(
                    jql,
                    nextPageToken=token,
                    maxResults=self.config.jira_page_size,
                    fields=list(fields),
                    expand="changelog",
                    json_result=True,
                )
            )

        # the next page is asked for as soon as its token arrives, while this one is processed and
        # landed (the cursor saved with a page still names the page after it)
        ahead = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"jira-{stream}-next")
        try:
            coming = ahead.submit(fetch, token)
            while True:
                page = coming.result()
                next_token = self._page_step(page, stream, seen_tokens)
                if next_token:
                    coming = ahead.submit(fetch, next_token)
                max_updated = self._land_page(page, stream, stats, max_updated, jql, next_token, cursor,
                                              cursor_key, run_id)
                seen_ids.update(str(i["id"]) for i in page["issues"] if isinstance(i, dict) and i.get("id"))
                if not next_token:
                    break
                seen_tokens.add(next_token)
        finally:
            ahead.shutdown(wait=True, cancel_futures=True)
        if window is None and since is not None:
            stats.deleted = self.gone_since(stream, since, seen_ids, run_id)
        log.info(
            "jira %s: %d pages, %d issues seen, %d changed, %d quarantined",
            stream, stats.pages, stats.seen, stats.changed, stats.quarantined,
        )
        return stats

    @staticmethod
    def _page_step(page: dict[str, Any], stream: str, seen_tokens: set[str]) -> str | None:
        """The page's next token, after checking the page is one we can go on from."""
        issues = page.get("issues")
        if not isinstance(issues, list):
            raise RuntimeError(f"jira {stream}: search/jql answered without an 'issues' list")
        next_token = page.get("nextPageToken") or None
        if next_token and (next_token in seen_tokens or not issues):
            raise RuntimeError(f"jira {stream}: search/jql repeated a page token or sent an empty page "
                               "with a token; stopping rather than looping")
        return next_token

    def _land_page(self, page: dict[str, Any], stream: str, stats: StreamStats, max_updated: datetime | None,
                   jql: str, next_token: str | None, cursor: Cursor, cursor_key: str, run_id: str
                   ) -> datetime | None:
        """Validate one search page, complete its changelogs and land it with the cursor."""
        issues = page["issues"]
        records, changelogs, bad = [], [], []
        full = self._full_histories(issues)
        for issue in issues:
            reason = validate_issue(issue, self.fields)
            if reason:
                issue_id = issue.get("id") if isinstance(issue, dict) else None
                bad.append(Quarantined(str(issue_id) if issue_id else None, reason,
                                       json.dumps(issue, ensure_ascii=False)))
                continue
            issue = dict(issue)
            embedded = issue.pop("changelog", None)
            updated = parse_jira_datetime(issue["fields"]["updated"]).astimezone(UTC)
            max_updated = max(max_updated, updated) if max_updated else updated
            records.append(Record(str(issue["id"]), issue["key"], updated, issue))
            changelogs.append(
                Record(
                    str(issue["id"]),
                    issue["key"],
                    updated,
                    {"issue_id": str(issue["id"]), "issue_key": issue["key"], "stream": stream,
                     "histories": full[issue["key"]] if issue["key"] in full
                     else self.histories(issue["key"], embedded)},
                )
            )
        stats.pages += 1
        stats.seen += len(issues)
        in_progress = (
            {
                "jql": jql,
                "jql_hash": _jql_hash(self.config.jira_jql[stream]),
                "next_page_token": next_token,
                "max_updated": max_updated.isoformat() if max_updated else None,
            }
            if next_token
            else {}
        )
        done = Cursor(watermark=max_updated if not next_token else cursor.watermark, in_progress=in_progress)
        result = self.store.save_page(stream, records, bad, done, run_id, also={"changelogs": changelogs},
                                      cursor_stream=cursor_key)
        stats.changed += result.inserted + result.updated - result.related_changed
        stats.quarantined += result.quarantined
        return max_updated

    def _full_histories(self, issues: list[Any]) -> dict[str, list[dict[str, Any]]]:
        """The complete histories of a page's issues whose embedded changelog is truncated, fetched
        a few at once (``/issue/{key}/changelog``)."""
        truncated = [(i["key"], i.get("changelog")) for i in issues
                     if isinstance(i, dict) and i.get("key") and isinstance(i.get("changelog"), dict)
                     and (i["changelog"].get("total") or 0) > len(i["changelog"].get("histories") or [])]
        if len(truncated) < 2:
            return {}
        with ThreadPoolExecutor(max_workers=CHANGELOG_WORKERS, thread_name_prefix="jira-changelog") as pool:
            return dict(zip([k for k, _ in truncated],
                            pool.map(lambda item: self.histories(*item), truncated), strict=True))

    def histories(self, issue_key: str, embedded: dict[str, Any] | None) -> list[dict[str, Any]]:
        """The issue's full status/field history, oldest first.

        Search embeds only the newest histories (about 40) with the real ``total``; when it is
        truncated, the rest comes from ``/issue/{key}/changelog`` (100 a page).
        """
        embedded = embedded or {}
        histories = list(embedded.get("histories") or [])
        total = embedded.get("total")
        if total is not None and total > len(histories):
            histories, start = [], 0
            while True:
                page = self.hook.get_json(
                    f"issue/{issue_key}/changelog", params={"startAt": start, "maxResults": 100}
                )
                values = page.get("values") or []
                histories.extend(values)
                start += len(values)
                if page.get("isLast", True) or not values or start >= page.get("total", start):
                    break
        return sorted(histories, key=lambda h: (h.get("created") or "", str(h.get("id"))))

    def sweep_deleted(self, stream: str, run_id: str, now: datetime | None = None) -> int:
        """Soft-delete issues that no longer match the stream's JQL (Jira has no tombstones).

        Lists the ids (``fields=id``, the largest pages search serves) of the id ranges due
        tonight (:class:`SweepPlan`: each range once every ``jira.sweep_days``, staggered, so a
        night lists about 1/``sweep_days`` of the site; all of it with 0, the first time, and
        when the stream's JQL changed).
        Issues updated within the lookback window are spared: search is eventually consistent, so
        a brand-new issue may be missing from the listing for a while. The landing store's
        deletion guard refuses a sweep that would take too much of what it listed
        (``landing.max_deleted_share`` of the live issues within the ranges listed).
        """
        now = now or datetime.now(UTC)
        self.store.ensure_stream(stream)
        key = f"sweep:{stream}"
        live = self.store.live_ids(stream)
        plan = SweepPlan.load(self.store.cursor(key).in_progress, self.config.jira_jql[stream])
        days = self.config.jira_sweep_days
        plan.rebalance(sorted(int(i) for i in live) if all(i.isdigit() for i in live) else [], days)
        due = plan.due(now, days)
        if not due:
            log.info("jira %s: no id range is due for the deletion sweep", stream)
            return 0
        listings = plan.listings(due)
        seen: set[str] = set()
        for low, high in listings:
            seen |= self._list_ids(stream, low, high)
        whole = listings == [(None, None)]
        in_slice = live if whole else {i for i in live if any(
            (low is None or int(i) > low) and (high is None or int(i) <= high) for low, high in listings)}
        recent = now - timedelta(minutes=self.config.jira_lookback_minutes)
        gone = in_slice - seen - self.store.updated_since(stream, recent)
        # refused (MassDeletionRefused, nothing marked) when ``gone`` is too much of what was listed:
        # a narrowed JQL or a lost permission looks exactly like this; the changelogs follow their issues
        deleted = self.store.mark_deleted(
            stream, gone, run_id, also=("changelogs",), within=None if whole else in_slice,
            scope_key=None if whole else "ids " + ", ".join(_range_text(low, high) for low, high in listings))
        plan.mark_swept(due, now)
        self.store.set_cursor(key, Cursor(watermark=now, in_progress=plan.state()))
        log.info("jira %s: deletion sweep listed %d of %d id ranges (%d ids), %d issues marked deleted",
                 stream, len(due), len(plan.swept), len(seen), deleted)
        return deleted

    def _list_ids(self, stream: str, low: int | None, high: int | None) -> set[str]:
        """The ids search lists for the stream's JQL within ``low < id <= high`` (None: unbounded)."""
        jql = f"({self.config.jira_jql[stream]})"
        if low is not None:
            jql += f" AND id > {low}"
        if high is not None:
            jql += f" AND id <= {high}"
        jql += " ORDER BY key ASC"
        client = self.hook.client
        seen: set[str] = set()
        token = None
        while True:
            page = self.hook.call(
                lambda token=token: client.enhanced_search_issues(
                    jql, nextPageToken=token, maxResults=SWEEP_PAGE_SIZE, fields=["id"], json_result=True
                )
            )
            seen.update(str(i["id"]) for i in page.get("issues") or [] if isinstance(i, dict) and i.get("id"))
            token = page.get("nextPageToken") or None
            if not token:
                return seen

    def gone_since(self, stream: str, since: datetime, seen: set[str], run_id: str) -> int:
        """Mark deleted the issues held as updated at or after ``since`` that the incremental read
        (which asked for every issue updated since then) did not return, once ``GET /issue/{id}``
        answers 404: a changed issue deleted since is gone the next night, not at its range's
        sweep. One request per such issue (usually none); one that answers 200 (moved out of the
        JQL, or not yet in search) is left to the sweep. Guarded against the whole stream."""
        missing = sorted(self.store.updated_since(stream, since) & self.store.live_ids(stream) - seen)
        gone = [issue_id for issue_id in missing if self.hook.issue_gone(issue_id)]
        deleted = self.store.mark_deleted(stream, gone, run_id, also=("changelogs",)) if gone else 0
        if deleted:
            log.info("jira %s: %d changed issues answer 404, marked deleted", stream, deleted)
        return deleted

    def versions(self, run_id: str) -> dict[str, int]:
        """Every version (release) of the configured projects; a full listing each run."""
        out = {}
        for project in self.config.release_projects:
            listing = self.hook.get_json(f"project/{project}/versions")
            if not isinstance(listing, list):
                raise RuntimeError(f"jira versions of {project}: expected a list")
            records = [
                Record(str(v["id"]), project, None, v) for v in listing if isinstance(v, dict) and v.get("id")
            ]
            result, deleted = self.store.save_snapshot("versions", records, run_id, scope_key=project)
            out[project] = result.inserted + result.updated + deleted
        return out

    def users(self, run_id: str, page_size: int = 1000) -> int:
        """Every Jira user visible to the account (joined to Notion and Slack people by e-mail)."""
        records, start = [], 0
        while True:
            page = self.hook.get_json("users/search", params={"startAt": start, "maxResults": page_size})
            if not isinstance(page, list):
                raise RuntimeError("jira users/search: expected a list")
            records += [Record(u["accountId"], u.get("emailAddress"), None, u) for u in page if u.get("accountId")]
            start += len(page)
            if len(page) < page_size:
                break
        result, deleted = self.store.save_snapshot("users", records, run_id)
        return result.inserted + result.updated + deleted
