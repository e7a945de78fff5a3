"""Planted text records: ``Faults.large_text_bytes`` and ``Faults.oversized_bytes``.

With ``large_text_bytes = N``, one record per source serves a text field of exactly N UTF-8 bytes
mixing Japanese (kanji, kana, half-width katakana), astral-plane characters (CJK Extension B,
emoji), ZWJ sequences, skin-tone modifiers, flags, keycaps, an ideographic variation sequence,
combining marks (decomposed が, stacked diacritics, Hangul jamo), invisible and separator
characters (ZWSP, BOM, U+2028/U+2029, NBSP) and JSON/HTML metacharacters: the summary of one Jira
incident, the title of one Notion risk record (split into 2,000-character text objects as Notion
does) and the text of one Slack message in an incident channel. Jira caps a summary at 255
characters; the sandbox does not, so the text travels all the way to the marts.

With ``oversized_bytes = N``, another record per source is padded the same way to N + 1 bytes of
text (so its JSON is bigger than N): a Jira prevention action's summary, a release-calendar page's
title and another Slack message. The chosen records are never planted defects or malformed records;
both kinds are listed in the manifest (``large_text_record``, ``oversized_record``) with their keys.

With ``lone_surrogate``, a third record per source (a Jira incident's summary, a risk record's
title, a Slack message's text) carries a lone UTF-16 surrogate, sent as the JSON escape
``\ud800``: legal JSON that no UTF-8 encoder accepts once parsed (manifest: ``invalid_unicode_record``).
With ``duplicate_id``, Jira serves one incident under the id of another (``duplicate_id_record``:
``key`` is the impostor, ``detail`` names the incident whose id it takes); see :func:`impostor`.
Nothing is re-stamped: set the knobs before the first extraction (or run a full refresh).
"""

from __future__ import annotations

from functools import lru_cache

from .state import SandboxState

# Each unit is whole (a grapheme cluster or a run of them); the text repeats them in order.
UNITS: tuple[str, ...] = (
    "信頼性レポート：障害対応とポストモーテム、再発防止策。",
    "ｼﾝﾗｲｾｲ ﾊﾝｶｸｶﾀｶﾅ",
    "𠮷野家の𩸽（サロゲートペア）",
    "😀🔥🚨",
    "👩‍💻👨‍👩‍👧‍👦🏳️‍🌈🧑🏽‍🚒",
    "🇯🇵🇺🇸",
    "1️⃣#️⃣",
    "葛\U000e0100城",
    "か\u3099き\u3099く\u3099",
    "e\u0301Z\u0324\u0308a\u0300\u0301\u0302\u0303",
    "\u1100\u1161\u11a8",
    "zero\u200bwidth\ufeffbom\u00a0nbsp\u2028ls\u2029ps",
    "\"quoted\" \\backslash\\ <b>&amp;</b> 'single'\ttab\r\nnewline\n",
)


@lru_cache(maxsize=16)
def unicode_text(n_bytes: int, label: str) -> str:
    """Deterministic text of exactly ``n_bytes`` UTF-8 bytes starting with ``[label] ``."""
    head = f"[{label}] "
    parts = [head]
    size = len(head.encode("utf-8"))
    k = 0
    while True:
        unit = UNITS[k % len(UNITS)]
        unit_size = len(unit.encode("utf-8"))
        if size + unit_size > n_bytes:
            break
        parts.append(unit)
        size += unit_size
        k += 1
    parts.append("." * max(0, n_bytes - size))
    text = "".join(parts)
    if len(text.encode("utf-8")) != n_bytes:  # only when n_bytes is shorter than the label
        return text.encode("utf-8")[:n_bytes].decode("utf-8", errors="ignore")
    return text


def targets(state: SandboxState) -> dict[str, dict[str, str]]:
    """``{"large": {"jira": key, "notion": page id, "slack": "C…:ts"}, "oversized": {...}}``, fixed per org."""
    if state.text_targets is not None:
        return state.text_targets
    org = state.org
    taken = {d["key"] for d in (*org.defects, *org.malformed)}
    incidents = sorted((i for i in org.issues if i.kind == "incident" and i.key not in taken
                        and i.id != org.duplicate_issue_id), key=lambda i: i.number)
    actions = sorted((i for i in org.issues if i.kind == "action" and i.key not in taken),
                     key=lambda i: (i.project, i.number))
    risks = sorted((r for r in org.risks if r.page_id not in taken), key=lambda r: r.index)
    releases = sorted(org.releases, key=lambda r: r.index)
    messages: list[str] = []
    for ch in sorted((c for c in org.channels if c.kind == "incident" and c.id not in taken), key=lambda c: c.index):
        top = state.content.messages(ch).top
        messages = [f"{ch.id}:{m['ts']}" for m in top[1:] if not m.get("subtype") and not m.get("reply_count")]
        if len(messages) >= 2:
            break
    if len(messages) < 3:  # the lone surrogate's message: from the same channel, or the next one with one
        for ch in sorted((c for c in org.channels if c.kind == "incident" and c.id not in taken
                          and not any(m.startswith(f"{c.id}:") for m in messages)), key=lambda c: c.index):
            top = state.content.messages(ch).top
            extra = [f"{ch.id}:{m['ts']}" for m in top[1:] if not m.get("subtype") and not m.get("reply_count")]
            if extra:
                messages = [*messages[:2], extra[0]]
                break
    out = {
        "large": {"jira": incidents[0].key, "notion": risks[0].page_id, "slack": messages[0]},
        "oversized": {"jira": actions[0].key, "notion": releases[0].page_id, "slack": messages[1]},
        "surrogate": {"jira": incidents[1].key, "notion": risks[1].page_id, "slack": messages[2]},
        "duplicate": {"jira": incidents[2].key, "id_of": incidents[3].key},
    }
    state.text_targets = out
    return out


STREAMS = {
    "large": {"jira": "jira.incidents", "notion": "notion.risk_records", "slack": "slack.messages"},
    "oversized": {"jira": "jira.actions", "notion": "notion.release_calendar", "slack": "slack.messages"},
    "surrogate": {"jira": "jira.incidents", "notion": "notion.risk_records", "slack": "slack.messages"},
}
FIELDS = {"jira": "summary", "notion": "title", "slack": "text"}


def texts(state: SandboxState, source: str) -> dict[str, str]:
    """The planted texts a server serves now: record key -> text (empty when both knobs are off)."""
    f = state.faults
    if not (f.large_text_bytes or f.oversized_bytes or f.lone_surrogate) or not state.injector.active(source):
        return {}
    chosen = targets(state)
    out: dict[str, str] = {}
    if f.lone_surrogate:
        key = chosen["surrogate"][source]
        out[key] = SURROGATE_TEXT.format(key=key)
    if f.large_text_bytes:
        key = chosen["large"][source]
        out[key] = unicode_text(int(f.large_text_bytes), key)
    if f.oversized_bytes:
        key = chosen["oversized"][source]
        out[key] = unicode_text(int(f.oversized_bytes) + 1, key)
    return out


SURROGATE_TEXT = "[{key}] half of an emoji: \ud800 (a lone UTF-16 surrogate)"


def impostor(state: SandboxState) -> tuple[str, int] | None:
    """With ``Faults.duplicate_id``: (the key of the incident Jira serves under another's id, that
    id), else None."""
    if not (state.faults.duplicate_id and state.injector.active("jira")):
        return None
    chosen = targets(state)["duplicate"]
    victim = next(i for i in state.org.issues if i.key == chosen["id_of"])
    return chosen["jira"], victim.id


def defects(state: SandboxState) -> list[dict]:
    """Manifest entries for the planted text records in force."""
    f = state.faults
    out = []
    if f.lone_surrogate:
        for source, key in targets(state)["surrogate"].items():
            if state.injector.active(source):
                out.append({"kind": "invalid_unicode_record", "source": source, "stream": STREAMS["surrogate"][source],
                            "key": key, "detail": f"{FIELDS[source]} holds a lone UTF-16 surrogate, sent as \\ud800"})
    if (dup := impostor(state)) is not None:
        victim = targets(state)["duplicate"]["id_of"]
        out.append({"kind": "duplicate_id_record", "source": "jira", "stream": "jira.incidents", "key": dup[0],
                    "detail": f"served with the id of {victim} ({dup[1]}): two issues with one id"})
    for kind, knob in (("large", f.large_text_bytes), ("oversized", f.oversized_bytes)):
        if not knob:
            continue
        size = int(knob) + (kind == "oversized")
        for source, key in targets(state)[kind].items():
            if not state.injector.active(source):
                continue
            out.append({
                "kind": f"{kind}_text_record" if kind == "large" else "oversized_record",
                "source": source, "stream": STREAMS[kind][source], "key": key,
                "detail": f"{FIELDS[source]} is {size:,} UTF-8 bytes of Japanese, emoji (astral-plane, ZWJ "
                          "sequences), combining marks and JSON/HTML metacharacters",
            })
    return out
