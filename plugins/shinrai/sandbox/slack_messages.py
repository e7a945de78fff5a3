"""Lazily generated, cached Slack messages per channel (deterministic from the org seed)."""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass

from .gen_slack import freeze_times
from .ids import rng_for, uuid4
from .model import PRODUCT_BY_CODE, Bot, Channel, Issue, Org
from .text import (
    CHATTER,
    PRODUCT_CHATTER,
    REPLIES,
    STATUS_LABELS,
    SYMPTOMS,
    TEAM_CHATTER,
    UPDATES,
    bilingual,
)
from .timefmt import slack_ts, to_jst

FREEZE_TEXT = "🧊 *リリース停止 / Release freeze* product: {product} incident: {key}"
RESUME_TEXT = "✅ *リリース再開 / Release resumed* product: {product} incident: {key}"
# an incoming webhook's post (shapes.Shape.release_posts = webhook): the words are in the attachment
WEBHOOK_FREEZE_TITLE = "🧊 リリース停止 / Release freeze"
WEBHOOK_RESUME_TITLE = "✅ リリース再開 / Release resumed"
WEBHOOK_FALLBACK = "Release Freeze Webhook posted a message"


@dataclass
class ChannelMessages:
    top: list[dict]  # top-level messages, ascending ts
    replies: dict[str, list[dict]]  # parent ts -> replies, ascending ts


class _Ts:
    """Allocates unique, increasing-enough ``ts`` values within one channel."""

    def __init__(self) -> None:
        self.used: set[int] = set()

    def at(self, t: float) -> str:
        micro = round(t * 1_000_000)
        while micro in self.used:
            micro += 1
        self.used.add(micro)
        return slack_ts(micro / 1_000_000)


def _posted_before(top: list[dict], replies: dict[str, list[dict]],
                   until: float) -> tuple[list[dict], dict[str, list[dict]]]:
    """The messages and replies posted before ``until``; thread fields follow the replies kept."""
    top = [m for m in top if float(m["ts"]) < until]
    kept: dict[str, list[dict]] = {}
    for m in top:
        thread = [x for x in replies.get(m["ts"], ()) if float(x["ts"]) < until]
        if thread:
            users = list(dict.fromkeys(x["user"] for x in thread))
            m.update({"reply_count": len(thread), "reply_users_count": len(users), "latest_reply": thread[-1]["ts"],
                      "reply_users": users})
            kept[m["ts"]] = thread
        elif m["ts"] in replies:
            for f in ("thread_ts", "reply_count", "reply_users_count", "latest_reply", "reply_users", "is_locked",
                      "subscribed"):
                m.pop(f, None)
    return top, kept


def _jst(t: float) -> str:
    return to_jst(t).strftime("%Y-%m-%d %H:%M")


class SlackContent:
    def __init__(self, org: Org, cache_size: int = 1024) -> None:
        self.org = org
        self.cache_size = cache_size
        self._cache: OrderedDict[str, ChannelMessages] = OrderedDict()
        self._lock = threading.Lock()
        self.by_id = {c.id: c for c in org.channels}
        self.by_name = {c.name: c for c in org.channels}

    def messages(self, ch: Channel) -> ChannelMessages:
        with self._lock:
            hit = self._cache.get(ch.id)
            if hit is not None:
                self._cache.move_to_end(ch.id)
                return hit
        data = self._generate(ch)
        with self._lock:
            self._cache[ch.id] = data
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return data

    def _generate(self, ch: Channel) -> ChannelMessages:
        if ch.kind == "incident":
            assert ch.issue_id is not None
            return self._incident(ch, self.org.by_id[ch.issue_id])
        if ch.kind == "release":
            return self._release(ch)
        return self._chatter(ch)

    # ------------------------------------------------------------ message builders
    def _user_msg(self, user_idx: int, text: str, ts: str, r) -> dict:
        return {"type": "message", "user": self.org.people[user_idx].slack_id, "text": text, "ts": ts,
                "team": self.org.team_id, "client_msg_id": uuid4(r)}

    def _bot_msg(self, bot: Bot, text: str, ts: str) -> dict:
        return {
            "type": "message", "user": bot.user_id, "bot_id": bot.bot_id, "app_id": bot.app_id, "text": text,
            "ts": ts, "team": self.org.team_id,
            "bot_profile": {"id": bot.bot_id, "app_id": bot.app_id, "name": bot.name, "deleted": False,
                            "team_id": self.org.team_id},
        }

    def _workflow_msg(self, text: str, ts: str) -> dict:
        wf = self.org.workflow_bot
        return {"type": "message", "subtype": "bot_message", "text": text, "ts": ts, "bot_id": wf.bot_id,
                "username": wf.name}

    def _freeze_msg(self, kind: str, inc: Issue, ts: str) -> dict:
        """A release freeze or resume post, as the shape sends it: by the Workflow Builder in ``text``, or by
        an incoming webhook with the words in an attachment (``text`` empty), the resume naming the product
        alone when the shape says so."""
        shape = self.org.shape
        product = PRODUCT_BY_CODE[inc.product].name
        if shape.release_posts != "webhook":
            tmpl = FREEZE_TEXT if kind == "freeze" else RESUME_TEXT
            return self._workflow_msg(tmpl.format(product=product, key=inc.key), ts)
        title = WEBHOOK_FREEZE_TITLE if kind == "freeze" else WEBHOOK_RESUME_TITLE
        body = f"product: {product}"
        if kind == "freeze" or shape.resume_names_incident:
            body += f"\nincident: {inc.key}"
        wf = self.org.workflow_bot
        attachment = {"id": 1, "color": "d0021b" if kind == "freeze" else "2eb886", "fallback": WEBHOOK_FALLBACK,
                      "title": title, "text": body,
                      "fields": [{"title": "Channel", "value": "#release-announce", "short": True}]}
        return {"type": "message", "subtype": "bot_message", "text": "", "ts": ts, "bot_id": wf.bot_id,
                "username": "Release Freeze Webhook", "attachments": [attachment]}

    def _join(self, user_idx: int, ts: str) -> dict:
        uid = self.org.people[user_idx].slack_id
        return {"type": "message", "subtype": "channel_join", "user": uid, "text": f"<@{uid}> has joined the channel",
                "ts": ts}

    def _threads(self, r, parents: list[dict], n_reply: int, members: list[int], ts: _Ts,
                 limit_t: float) -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = {}
        if n_reply <= 0 or not parents:
            return out
        k = min(len(parents), max(1, math.ceil(n_reply / 3)))
        chosen = r.sample(parents, k)
        counts = [1] * k
        for _ in range(n_reply - k):
            counts[r.randrange(k)] += 1
        for parent, n in zip(chosen, counts, strict=True):
            t = float(parent["ts"])
            replies = []
            for _ in range(n):
                t = min(t + r.uniform(20, 600), limit_t)
                who = r.choice(members)
                m = self._user_msg(who, bilingual(r.choice(REPLIES), r.choice((0, 1, 2))), ts.at(t), r)
                m["thread_ts"] = parent["ts"]
                m["parent_user_id"] = parent.get("user", "")
                replies.append(m)
            replies.sort(key=lambda m: float(m["ts"]))
            users = list(dict.fromkeys(m["user"] for m in replies))
            parent.update({"thread_ts": parent["ts"], "reply_count": len(replies), "reply_users_count": len(users),
                           "latest_reply": replies[-1]["ts"], "reply_users": users, "is_locked": False,
                           "subscribed": False})
            out[parent["ts"]] = replies
        return out

    # ------------------------------------------------------------ channels
    def _incident(self, ch: Channel, inc: Issue) -> ChannelMessages:
        """An incident's channel. An incident with a whole lifecycle (``inc.full``: open on the reference
        day or created after it) has its messages drawn from that lifecycle, independent of the anchor,
        and shows those posted before the anchor: a later anchor only adds messages."""
        org = self.org
        r = rng_for(org.seed, "slackmsg", inc.id)
        ts = _Ts()
        anchor_t = org.anchor_t
        full = inc.full
        if full is not None:
            acknowledged, mitigated, recovered, _resolved, cmd, _sev0 = full
            horizon = math.inf
        else:
            acknowledged, mitigated, recovered = inc.acknowledged, inc.mitigated, inc.recovered
            cmd = inc.assignee if inc.assignee is not None else inc.reporter
            horizon = anchor_t
        product = PRODUCT_BY_CODE[inc.product]
        team = [p.index for p in org.people if p.product == inc.product and not p.left] or [cmd]
        members = list(dict.fromkeys([cmd] + r.sample(team, min(len(team), r.randint(3, 6)))))
        declared = inc.created
        end_t = recovered if recovered is not None and recovered + 30 * 60 <= horizon else None
        last = max(x for x in (recovered, mitigated, acknowledged, declared) if x is not None)
        window_end = end_t if end_t is not None else min(horizon - 300, max(declared + 7200, last))
        window_end = max(window_end, min(declared + 900, horizon - 1))
        key = inc.key
        top: list[dict] = []
        # 1. status board (edited as the situation changes)
        state = "recovered" if inc.recovered is not None else ("mitigated" if inc.mitigated else "investigating")
        label = " / ".join(STATUS_LABELS[state])
        board = (f":rotating_light: *ステータスボード / Status board* {key}\n"
                 f"*重大度 / Severity*: {inc.severity or '未設定 / unset'}\n*ステータス / Status*: {label}\n"
                 f"*コマンダー / Commander*: <@{org.people[cmd].slack_id}>\n"
                 f"*プロダクト / Product*: {product.name} ({product.name_ja})\n"
                 f"*発生 / Occurred*: {_jst(inc.occurred or declared)}")
        sb = self._bot_msg(org.incident_bot, board, ts.at(declared + 1))
        sb["blocks"] = [{"type": "section", "block_id": "status-board", "text": {"type": "mrkdwn", "text": board}}]
        edits = [x for x in (inc.acknowledged, inc.mitigated, inc.recovered) if x is not None and x <= anchor_t]
        sb["edited"] = {"user": org.incident_bot.user_id, "ts": slack_ts(max(edits + [declared + 60]))}
        top.append(sb)
        n_join = r.randint(2, 4)
        for j in range(n_join):
            top.append(self._join(members[j % len(members)], ts.at(declared + 2 + j * r.uniform(3, 15))))
        summary = SYMPTOMS[inc.product][inc.text_variant % 4]
        top.append(self._user_msg(cmd, f"<!here> インシデントを宣言します / Declaring an incident: {key} "
                                       f"{inc.severity or ''} {summary[0]} / {summary[1]}", ts.at(declared + 90), r))
        has_end = end_t is not None
        n_mid = ch.n_top - 2 - n_join - int(has_end)
        n_up = min(n_mid, r.randint(3, 6))
        times = sorted(r.uniform(declared + 120, window_end) for _ in range(n_mid))
        up_slots = set(r.sample(range(n_mid), n_up)) if n_mid else set()
        mid: list[dict] = []
        for k, t in enumerate(times):
            if k in up_slots:
                text = "【状況更新 / Update】" + bilingual(r.choice(UPDATES), 0)
                mid.append(self._user_msg(cmd, text, ts.at(t), r))
            else:
                text = bilingual(r.choice(CHATTER), r.choice((0, 1, 1, 2)))
                mid.append(self._user_msg(r.choice(members), text, ts.at(t), r))
        top.extend(mid)
        if end_t is not None:
            end = self._user_msg(cmd, f"対応終了を宣言します / Incident response ended: {key} "
                                      f"(復旧 / recovered {_jst(end_t)})", ts.at(end_t + r.uniform(300, 1500)), r)
            end["reactions"] = [{"name": "white_check_mark", "users": [org.people[m].slack_id for m in members],
                                 "count": len(members)}]
            top.append(end)
        replies = self._threads(r, mid, ch.n_reply, members, ts, horizon - 1)
        top.sort(key=lambda m: float(m["ts"]))
        if full is not None:
            top, replies = _posted_before(top, replies, anchor_t)
        return ChannelMessages(top, replies)

    def _release(self, ch: Channel) -> ChannelMessages:
        org = self.org
        r = rng_for(org.seed, "slackmsg", ch.name)
        ts = _Ts()
        events: list[tuple[float, int, str, object]] = []
        for j, who in enumerate(r.sample(range(len(org.people)), 3)):
            events.append((ch.created + 60 * (j + 1), 0, "join", who))
        for rel in org.releases:
            if rel.at <= org.anchor_t:
                events.append((rel.at + 60, 1, "release", rel))
        for inc in org.issues:
            if inc.kind != "incident":
                continue
            f, res = freeze_times(org.seed, inc, org.anchor_t)
            if f is not None:
                events.append((f, 2, "freeze", inc))
            if res is not None:
                events.append((res, 3, "resume", inc))
        events.sort(key=lambda e: (e[0], e[1]))
        top: list[dict] = []
        for t, _o, kind, ref in events:
            if kind == "join":
                top.append(self._join(ref, ts.at(t)))  # type: ignore[arg-type]
            elif kind == "release":
                name = PRODUCT_BY_CODE[ref.product].name  # type: ignore[attr-defined]
                label = "定期リリース / Regular release" if ref.kind == "Regular" else "緊急修正 / Hotfix"  # type: ignore[attr-defined]
                text = f"📦 {name} {ref.name} をリリースしました / released ({label})"  # type: ignore[attr-defined]
                top.append(self._bot_msg(org.release_bot, text, ts.at(t)))
            else:
                inc = ref  # type: ignore[assignment]
                top.append(self._freeze_msg(kind, inc, ts.at(t)))  # type: ignore[arg-type]
        return ChannelMessages(top, {})

    def _chatter(self, ch: Channel) -> ChannelMessages:
        org = self.org
        r = rng_for(org.seed, "slackmsg", ch.name)
        ts = _Ts()
        if ch.product is not None:
            members = [p.index for p in org.people if p.product == ch.product and not p.left]
            phrases = PRODUCT_CHATTER
        else:
            members = [p.index for p in org.people if p.product == "reliability"]
            phrases = TEAM_CHATTER
        members = members or [0]
        top = [self._join(members[j % len(members)], ts.at(ch.created + 60 * (j + 1))) for j in range(3)]
        n = ch.n_top - 3
        until = org.reference_t or org.anchor_t  # the same messages at every anchor
        start = max(ch.created, until - 3 * 365 * 86400)
        times = sorted(r.uniform(start + 3600, until - 3600) for _ in range(n))
        chat = [self._user_msg(r.choice(members), bilingual(r.choice(phrases), r.choice((0, 1, 2))), ts.at(t), r)
                for t in times]
        top.extend(chat)
        replies = self._threads(r, chat, ch.n_reply, members, ts, until - 1)
        top.sort(key=lambda m: float(m["ts"]))
        return ChannelMessages(top, replies)
