"""A small JQL parser/evaluator: enough for incremental extraction and id reconciliation."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from . import jira_schema as js
from .model import INCIDENT_PROJECT_ID, PRODUCT_BY_CODE, PRODUCT_BY_KEY, Issue, Person
from .timefmt import JST

MAX_ORDER_FIELDS = 7
UNBOUNDED = "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
DATE_FORMATS_HELP = (
    "Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', "
    "or a period format e.g. '-5d', '4w 2d'."
)


class JqlError(ValueError):
    """Raised for invalid JQL; the message is what Jira puts in ``errorMessages``."""


_TOKEN = re.compile(
    r"""\s*(?:
    (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    |(?P<op>!=|>=|<=|!~|=|>|<|~|\(|\)|,)
    |(?P<word>[^\s=!<>~(),"']+)
    )""",
    re.VERBOSE,
)
KEYWORDS = {"and", "or", "not", "in", "is", "empty", "null", "order", "by", "asc", "desc"}


@dataclass(frozen=True)
class Tok:
    kind: str  # "str" | "op" | "word"
    text: str

    @property
    def kw(self) -> str | None:
        return self.text.lower() if self.kind == "word" and self.text.lower() in KEYWORDS else None


def tokenize(jql: str) -> list[Tok]:
    pos, out = 0, []
    s = jql.rstrip()
    while pos < len(s):
        m = _TOKEN.match(s, pos)
        if not m or m.end() == pos:
            raise JqlError(f"Error in the JQL Query: The character '{s[pos]}' is a reserved JQL character. "
                           f"(line 1, character {pos + 1})")
        pos = m.end()
        if m.group("str") is not None:
            raw = m.group("str")[1:-1]
            out.append(Tok("str", re.sub(r"\\(.)", r"\1", raw)))
        elif m.group("op") is not None:
            out.append(Tok("op", m.group("op")))
        else:
            out.append(Tok("word", m.group("word")))
    return out


# ---------------------------------------------------------------- fields

FIELD_ALIASES: dict[str, str] = {
    "project": "project", "issuetype": "issuetype", "type": "issuetype", "key": "key", "issuekey": "key",
    "issue": "key", "id": "key", "status": "status", "created": "created", "createddate": "created",
    "updated": "updated", "updateddate": "updated", "resolved": "resolved", "resolutiondate": "resolved",
    "duedate": "duedate", "due": "duedate", "assignee": "assignee", "reporter": "reporter",
    "labels": "labels", "statuscategory": "statuscategory", "resolution": "resolution",
}
DATE_FIELDS = {"created", "updated", "resolved", "duedate"}


@dataclass(frozen=True)
class FieldRef:
    name: str  # canonical name or custom field id
    display: str  # as written

    @property
    def custom(self) -> bool:
        return self.name.startswith("customfield_")

    @property
    def is_date(self) -> bool:
        if self.custom:
            return js.CUSTOM_FIELDS[self.name][1] in ("datetime", "date")
        return self.name in DATE_FIELDS


def resolve_field(text: str) -> FieldRef:
    low = text.lower()
    if low in FIELD_ALIASES:
        return FieldRef(FIELD_ALIASES[low], text)
    m = re.fullmatch(r"cf\[(\d+)\]", low)
    if m and f"customfield_{m.group(1)}" in js.CUSTOM_FIELDS:
        return FieldRef(f"customfield_{m.group(1)}", text)
    for fid, (name, *_rest) in js.CUSTOM_FIELDS.items():
        if name.lower() == low:
            return FieldRef(fid, text)
    raise JqlError(f"Field '{text}' does not exist or you do not have permission to view it.")


# ---------------------------------------------------------------- values

_REL = re.compile(r"^([-+]?)\s*((?:\d+\s*[wdhm]\s*)+)$", re.IGNORECASE)
_ABS = re.compile(
    r"^(\d{4})[/-](\d{1,2})[/-](\d{1,2})(?:\s+(\d{1,2}):(\d{2}))?(?:\s*(.+))?$"
)


def _zone(text: str | None):
    if text is None:
        return JST  # the account time zone of the sandbox API user (Asia/Tokyo)
    t = text.strip()
    if t.upper() in ("UTC", "GMT", "Z"):
        return UTC
    m = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", t)
    if m:
        sign = 1 if m.group(1) == "+" else -1
        from datetime import timezone

        return timezone(sign * timedelta(hours=int(m.group(2)), minutes=int(m.group(3))))
    try:
        return ZoneInfo(t)
    except Exception as exc:
        raise ValueError(t) from exc


def parse_date_value(text: str, field: str, now: float) -> tuple[float, float]:
    """Returns [start, end) in epoch ms. Numbers are epoch milliseconds."""
    t = text.strip()
    if re.fullmatch(r"-?\d{9,}", t):
        ms = float(t)
        return ms, ms + 1
    rel = _REL.match(t)
    if rel:
        sign = -1 if rel.group(1) == "-" else 1
        secs = 0
        for n, unit in re.findall(r"(\d+)\s*([wdhm])", rel.group(2), re.IGNORECASE):
            secs += int(n) * {"w": 604800, "d": 86400, "h": 3600, "m": 60}[unit.lower()]
        ms = (now + sign * secs) * 1000
        return ms, ms + 60000
    m = _ABS.match(t)
    if m:
        y, mo, d, hh, mm, zone = m.groups()
        try:
            tz = _zone(zone)
            dt = datetime(int(y), int(mo), int(d), int(hh or 0), int(mm or 0), tzinfo=tz)
        except ValueError:
            dt = None
        if dt is not None:
            width = 60000 if hh is not None else 86400000
            ms = dt.timestamp() * 1000
            return ms, ms + width
    raise JqlError(f"Date value '{text}' for field '{field}' is invalid. {DATE_FORMATS_HELP}")


def _function(name: str, now: float) -> tuple[float, float]:
    n = name.lower()
    dt = datetime.fromtimestamp(now, JST)
    if n == "now":
        return now * 1000, now * 1000 + 1
    if n in ("startofday", "endofday"):
        start = datetime(dt.year, dt.month, dt.day, tzinfo=JST).timestamp()
        v = start if n == "startofday" else start + 86400 - 0.001
        return v * 1000, v * 1000 + 1
    raise JqlError(f"Error in the JQL Query: The function '{name}' is not supported by the sandbox.")


@dataclass
class Value:
    text: str
    quoted: bool
    function: str | None = None


# ---------------------------------------------------------------- compiled query

Pred = Callable[[Issue], bool]


@dataclass
class Query:
    predicate: Pred
    order: list[tuple[str, bool]]  # (canonical field, descending)
    bounded: bool

    def sort(self, issues: list[Issue]) -> list[Issue]:
        out = sorted(issues, key=lambda i: i.id)
        order = self.order or [("created", True)]
        for name, desc in reversed(order):
            present = [i for i in out if sort_value(i, name) is not None]
            missing = [i for i in out if sort_value(i, name) is None]
            present.sort(key=lambda i, n=name: sort_value(i, n), reverse=desc)
            out = missing + present if desc else present + missing
        return out


def sort_value(issue: Issue, name: str) -> Any:
    if name == "key":
        return (issue.project, issue.number)
    if name == "id":
        return issue.id
    v = field_value(issue, name)
    if isinstance(v, (set, frozenset)):
        return ",".join(sorted(v)) or None
    return v


def _ms(t: float | None) -> float | None:
    return None if t is None else t * 1000


def field_value(issue: Issue, name: str, people: list[Person] | None = None) -> Any:
    """Comparable value of a field: epoch ms for dates, lower-case names for selects."""
    if name == "project":
        return issue.project.lower()
    if name == "issuetype":
        return js.ISSUE_TYPES[issue.kind][1].lower()
    if name == "status":
        return issue.status.lower()
    if name == "statuscategory":
        return js.STATUS_CATEGORIES[js.STATUSES[issue.status][1]][1].lower()
    if name == "resolution":
        if issue.resolved is None:
            return None
        return ("won't do" if issue.status == "Won't Do" else "done")
    if name == "created":
        return _ms(issue.created)
    if name == "updated":
        return _ms(issue.updated)
    if name == "resolved":
        return _ms(issue.resolved)
    if name == "duedate":
        if not issue.due:
            return None
        d = date.fromisoformat(issue.due)
        return datetime(d.year, d.month, d.day, tzinfo=JST).timestamp() * 1000
    if name in ("assignee", "reporter"):
        idx = issue.assignee if name == "assignee" else issue.reporter
        if idx is None or people is None:
            return None if idx is None else str(idx)
        return people[idx].jira_account_id
    if name == "labels":
        return frozenset(label.lower() for label in issue.labels)
    if name.startswith("customfield_"):
        return _custom_value(issue, name)
    raise JqlError(f"Field '{name}' does not exist or you do not have permission to view it.")


def _custom_value(issue: Issue, fid: str) -> Any:
    if fid == js.PRODUCT:
        return PRODUCT_BY_CODE[issue.product].name.lower()
    if issue.kind != "incident":
        return None
    attr = {
        js.SEVERITY: "severity", js.DETECTION_ROUTE: "route", js.CAUSE_CATEGORY: "cause",
        js.DEVELOPMENT_CATEGORY: "devcat", js.INTRODUCED_AT: "introduced", js.OCCURRED_AT: "occurred",
        js.DETECTED_AT: "detected", js.ACKNOWLEDGED_AT: "acknowledged", js.MITIGATED_AT: "mitigated",
        js.RECOVERED_AT: "recovered",
    }.get(fid)
    if attr is None:
        return None
    v = getattr(issue, attr)
    if isinstance(v, float):
        return v * 1000
    return v.lower() if isinstance(v, str) else v


class Parser:
    def __init__(self, jql: str, people: list[Person], now: float | None = None,
                 projects: tuple[str, ...] = ()) -> None:
        self.toks = tokenize(jql)
        self.pos = 0
        self.people = people
        self.projects = projects  # a shape's own project keys (shapes.Shape.single_project)
        self.now = time.time() if now is None else now
        self.by_email = {p.email.lower(): p.jira_account_id for p in people}

    def peek(self) -> Tok | None:
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def take(self) -> Tok:
        tok = self.peek()
        if tok is None:
            raise JqlError("Error in the JQL Query: Expecting either a value, list or function but got 'EOF'.")
        self.pos += 1
        return tok

    def parse(self) -> Query:
        pred: Pred | None = None
        if self.peek() is not None and self.peek().kw != "order":  # type: ignore[union-attr]
            pred = self.or_expr()
        order: list[tuple[str, bool]] = []
        tok = self.peek()
        if tok is not None:
            if tok.kw != "order":
                raise JqlError(f"Error in the JQL Query: Expecting operator but got '{tok.text}'.")
            self.take()
            if self.take().kw != "by":
                raise JqlError("Error in the JQL Query: Expecting 'by' after 'order'.")
            order = self.order_list()
        if len(order) > MAX_ORDER_FIELDS:
            raise JqlError(f"The ORDER BY clause can contain at most {MAX_ORDER_FIELDS} fields.")
        return Query(pred or (lambda _i: True), order, pred is not None)

    def order_list(self) -> list[tuple[str, bool]]:
        out = []
        while True:
            tok = self.take()
            if tok.kind == "op":
                raise JqlError(f"Error in the JQL Query: Expecting a field name but got '{tok.text}'.")
            f = resolve_field(tok.text)
            name = "id" if tok.text.lower() == "id" else f.name
            desc = False
            nxt = self.peek()
            if nxt is not None and nxt.kw in ("asc", "desc"):
                desc = self.take().kw == "desc"
            out.append((name, desc))
            nxt = self.peek()
            if nxt is None:
                return out
            if nxt.text != ",":
                raise JqlError(f"Error in the JQL Query: Expecting ',' but got '{nxt.text}'.")
            self.take()

    def or_expr(self) -> Pred:
        parts = [self.and_expr()]
        while self.peek() is not None and self.peek().kw == "or":  # type: ignore[union-attr]
            self.take()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else (lambda i: any(p(i) for p in parts))

    def and_expr(self) -> Pred:
        parts = [self.not_expr()]
        while self.peek() is not None and self.peek().kw == "and":  # type: ignore[union-attr]
            self.take()
            parts.append(self.not_expr())
        return parts[0] if len(parts) == 1 else (lambda i: all(p(i) for p in parts))

    def not_expr(self) -> Pred:
        tok = self.peek()
        if tok is not None and tok.kw == "not":
            self.take()
            inner = self.not_expr()
            return lambda i: not inner(i)
        if tok is not None and tok.text == "(" and tok.kind == "op":
            self.take()
            inner = self.or_expr()
            close = self.take()
            if close.text != ")":
                raise JqlError(f"Error in the JQL Query: Expecting ')' but got '{close.text}'.")
            return inner
        return self.clause()

    def value(self) -> Value:
        tok = self.take()
        if tok.kind == "op":
            raise JqlError(f"Error in the JQL Query: Expecting either a value, list or function but got "
                           f"'{tok.text}'.")
        nxt = self.peek()
        if tok.kind == "word" and nxt is not None and nxt.text == "(" and nxt.kind == "op":
            self.take()
            close = self.take()
            if close.text != ")":
                raise JqlError("Error in the JQL Query: function arguments are not supported by the sandbox.")
            return Value(tok.text, False, function=tok.text)
        return Value(tok.text, tok.kind == "str")

    def clause(self) -> Pred:
        ftok = self.take()
        if ftok.kind == "op":
            raise JqlError(f"Error in the JQL Query: Expecting a field name but got '{ftok.text}'.")
        field = resolve_field(ftok.text)
        id_field = ftok.text.lower() == "id"
        op_tok = self.take()
        op = op_tok.text if op_tok.kind == "op" else (op_tok.kw or op_tok.text).lower()
        if op == "not":
            if self.take().kw != "in":
                raise JqlError("Error in the JQL Query: Expecting 'in' after 'not'.")
            op = "not in"
        if op == "is":
            negate = False
            tok = self.take()
            if tok.kw == "not":
                negate, tok = True, self.take()
            if tok.kw not in ("empty", "null"):
                raise JqlError(f"Error in the JQL Query: Expecting 'EMPTY' but got '{tok.text}'.")
            return self._empty(field, negate)
        if op in ("in", "not in"):
            if self.take().text != "(":
                raise JqlError("Error in the JQL Query: Expecting '(' after 'in'.")
            values = [self.value()]
            while True:
                tok = self.take()
                if tok.text == ")":
                    break
                if tok.text != ",":
                    raise JqlError(f"Error in the JQL Query: Expecting ',' or ')' but got '{tok.text}'.")
                values.append(self.value())
            preds = [self._compare(field, "=", v, id_field) for v in values]
            if op == "in":
                return lambda i: any(p(i) for p in preds)
            return lambda i: not any(p(i) for p in preds)
        if op not in ("=", "!=", ">", ">=", "<", "<=", "~", "!~"):
            raise JqlError(f"Error in the JQL Query: Expecting operator but got '{op_tok.text}'.")
        value = self.value()
        if value.text.lower() in ("empty", "null") and not value.quoted and op in ("=", "!="):
            return self._empty(field, op == "!=")
        return self._compare(field, op, value, id_field)

    def _empty(self, field: FieldRef, negate: bool) -> Pred:
        name = field.name
        people = self.people

        def pred(i: Issue) -> bool:
            v = field_value(i, name, people) if name != "key" else i.key
            empty = v is None or v == frozenset() or v == ""
            return empty != negate

        return pred

    def _compare(self, field: FieldRef, op: str, value: Value, id_field: bool) -> Pred:
        name = field.name
        if name == "key":
            return self._key_compare(op, value, field.display)
        if field.is_date:
            if value.function:
                lo, hi = _function(value.function, self.now)
            else:
                lo, hi = parse_date_value(value.text, field.display, self.now)
            return _date_pred(name, op, lo, hi)
        if op in ("~", "!~"):
            raise JqlError(f"The operator '{op}' is not supported by the '{field.display}' field.")
        target = self._normalise(field, value)
        people = self.people
        if name == "labels":
            if op == "=":
                return lambda i: target in field_value(i, "labels")
            if op == "!=":
                return lambda i: target not in field_value(i, "labels")
        if op == "=":
            return lambda i: field_value(i, name, people) == target
        if op == "!=":
            return lambda i: (v := field_value(i, name, people)) is not None and v != target
        raise JqlError(f"The operator '{op}' is not supported by the '{field.display}' field.")

    def _normalise(self, field: FieldRef, value: Value) -> Any:
        name, text = field.name, value.text
        low = text.lower()
        if value.function and value.function.lower() == "currentuser":
            return "sandbox-api-user"
        if name == "project":
            for key, p in PRODUCT_BY_KEY.items():
                if low in (key.lower(), str(p.project_id), p.name.lower()):
                    return key.lower()
            if low in ("inc", str(INCIDENT_PROJECT_ID), "incidents") and not self.projects:
                return "inc"
            if low in {p.lower() for p in self.projects} | ({str(INCIDENT_PROJECT_ID)} if self.projects else set()):
                return self.projects[0].lower() if low == str(INCIDENT_PROJECT_ID) else low
            raise JqlError(f"The value '{text}' does not exist for the field '{field.display}'.")
        if name == "issuetype":
            for _kind, (tid, tname) in js.ISSUE_TYPES.items():
                if low in (tname.lower(), tid):
                    return tname.lower()
            raise JqlError(f"The value '{text}' does not exist for the field '{field.display}'.")
        if name == "status":
            for sname, (sid, _cat) in js.STATUSES.items():
                if low in (sname.lower(), sid):
                    return sname.lower()
            raise JqlError(f"The value '{text}' does not exist for the field '{field.display}'.")
        if name == "statuscategory":
            for key, (cid, cname, _c) in js.STATUS_CATEGORIES.items():
                if low in (key, cname.lower(), str(cid)):
                    return cname.lower()
            raise JqlError(f"The value '{text}' does not exist for the field '{field.display}'.")
        if name in ("assignee", "reporter"):
            return self.by_email.get(low, text)
        if name == "resolution":
            return None if low == "unresolved" else low
        return low

    def _key_compare(self, op: str, value: Value, display: str) -> Pred:
        text = value.text.strip()
        if re.fullmatch(r"\d+", text):
            n = int(text)
            ops: dict[str, Callable[[int], bool]] = {
                "=": lambda x: x == n, "!=": lambda x: x != n, ">": lambda x: x > n, ">=": lambda x: x >= n,
                "<": lambda x: x < n, "<=": lambda x: x <= n,
            }
            if op not in ops:
                raise JqlError(f"The operator '{op}' is not supported by the '{display}' field.")
            f = ops[op]
            return lambda i: f(i.id)
        m = re.fullmatch(r"([A-Za-z][A-Za-z0-9_]*)-(\d+)", text)
        if not m:
            raise JqlError(f"The issue key '{text}' for field '{display}' is invalid.")
        proj, n = m.group(1).upper(), int(m.group(2))
        ops2: dict[str, Callable[[Issue], bool]] = {
            "=": lambda i: i.project == proj and i.number == n,
            "!=": lambda i: not (i.project == proj and i.number == n),
            ">": lambda i: i.project == proj and i.number > n,
            ">=": lambda i: i.project == proj and i.number >= n,
            "<": lambda i: i.project == proj and i.number < n,
            "<=": lambda i: i.project == proj and i.number <= n,
        }
        if op not in ops2:
            raise JqlError(f"The operator '{op}' is not supported by the '{display}' field.")
        return ops2[op]


def _date_pred(name: str, op: str, lo: float, hi: float) -> Pred:
    """Literals are instants (``lo``); only ``=``/``!=`` match the literal's whole minute or day."""

    def get(i: Issue) -> float | None:
        return field_value(i, name)

    if op == "=":
        return lambda i: (v := get(i)) is not None and lo <= v < hi
    if op == "!=":
        return lambda i: (v := get(i)) is not None and not lo <= v < hi
    if op == ">":
        return lambda i: (v := get(i)) is not None and v > lo
    if op == ">=":
        return lambda i: (v := get(i)) is not None and v >= lo
    if op == "<":
        return lambda i: (v := get(i)) is not None and v < lo
    if op == "<=":
        return lambda i: (v := get(i)) is not None and v <= lo
    raise JqlError(f"The operator '{op}' is not supported by the '{name}' field.")


def compile_jql(jql: str, people: list[Person], now: float | None = None,
                projects: tuple[str, ...] = ()) -> Query:
    if not jql or not jql.strip():
        raise JqlError(UNBOUNDED)
    return Parser(jql, people, now, projects).parse()
