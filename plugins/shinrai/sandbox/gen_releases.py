"""Releases: a regular calendar per product plus hotfixes (Jira versions + Notion calendar pages)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from .ids import rng_for, round_ms, uuid4
from .model import PRODUCTS, Release
from .timefmt import JST, to_jst

DAY = 86400.0
HOUR = 3600.0


def _snap_to_weekday(t: float, weekday: int, minutes: int, forward: bool = True) -> float:
    d = to_jst(t).date()
    shift = (weekday - d.weekday()) % 7
    if not forward and shift:
        shift -= 7
    d = d + timedelta(days=shift)
    return datetime(d.year, d.month, d.day, 14, 0, tzinfo=JST).timestamp() + minutes * 60


def generate_releases(seed: int, scale: float, start_t: float, anchor_t: float) -> list[Release]:
    """All releases of all products, sorted by time; ``index`` and ``version_id`` follow that order."""
    releases: list[Release] = []
    span = anchor_t - start_t
    for product in PRODUCTS:
        rng = rng_for(seed, "releases", product.code)
        n = max(2, round(100 * scale))
        n_regular = max(1, round(n * 0.8))
        n_hotfix = n - n_regular
        interval = span / n_regular
        snap = interval >= 2 * DAY
        mine: list[Release] = []
        for j in range(n_regular + 2):
            if j < n_regular:
                t = start_t + (j + 0.5) * interval + rng.uniform(-0.15, 0.15) * interval
            else:  # two scheduled releases after the anchor
                t = anchor_t + (j - n_regular + 0.5) * min(interval, 10 * DAY)
            if snap:
                minutes = rng.randrange(0, 120)
                snapped = _snap_to_weekday(t, product.release_weekday, minutes)
                if j < n_regular and snapped > anchor_t - HOUR:
                    snapped = _snap_to_weekday(t, product.release_weekday, minutes, forward=False)
                t = snapped
            mine.append(Release(0, product.code, "Regular", round_ms(t)))
        for _ in range(n_hotfix):
            t = start_t + rng.random() * (span - DAY)
            day = to_jst(t).date()
            t = datetime(day.year, day.month, day.day, 10, 0, tzinfo=JST).timestamp()
            t += rng.uniform(0, 10 * HOUR)
            mine.append(Release(0, product.code, "Hotfix", round_ms(min(t, anchor_t - HOUR))))
        mine.sort(key=lambda r: r.at)
        for r, name in _version_names(mine):
            r.name = name
            r.page_id = uuid4(rng)
            r.page_created = round_ms(min(r.at - rng.uniform(2, 10) * DAY, anchor_t - rng.uniform(1, 5) * DAY))
            if r.at <= anchor_t:
                r.page_edited = min(r.at + rng.uniform(1, 4) * HOUR, anchor_t)
            else:
                r.page_edited = min(r.page_created + rng.uniform(0, 1) * DAY, anchor_t)
        releases.extend(mine)
    releases.sort(key=lambda r: (r.at, r.product))
    for i, r in enumerate(releases):
        r.index = i
        r.version_id = 10100 + i
    return releases


LEAD_DAYS = (12.0, 20.0)  # a regular release's calendar page and Jira version appear this long before it


def later_releases(seed: int, scale: float, start_t: float, ref_t: float, base: list[Release],
                   until_t: float) -> list[Release]:
    """Releases after the reference day whose calendar page exists before ``until_t``: each product's
    regular cadence continued after its last scheduled release, plus hotfixes drawn per product and
    day. Each is drawn from the seed and its own slot, never from ``until_t``, and they are ordered by
    when their page appears, so a later ``until_t`` only appends (indices and version ids stay)."""
    out: list[Release] = []
    span = ref_t - start_t
    for product in PRODUCTS:
        mine = [r for r in base if r.product == product.code]
        n = max(2, round(100 * scale))
        n_regular = max(1, round(n * 0.8))
        interval = span / n_regular
        hotfix_rate = (n - n_regular) / (span / DAY)
        last = max(r.at for r in mine if r.kind == "Regular")
        k = 1
        while True:  # regular releases, announced LEAD_DAYS ahead
            rng = rng_for(seed, "release-later", f"{product.code}:{k}")
            t = last + k * interval + rng.uniform(-0.15, 0.15) * interval
            if interval >= 2 * DAY:
                t = _snap_to_weekday(t, product.release_weekday, rng.randrange(0, 120))
            rel = Release(0, product.code, "Regular", round_ms(t))
            rel.page_created = round_ms(t - rng.uniform(*LEAD_DAYS) * DAY)
            if rel.page_created >= until_t:
                break
            _later_page(rel, rng)
            out.append(rel)
            k += 1
        day = to_jst(ref_t).date()
        while (t0 := datetime(day.year, day.month, day.day, tzinfo=JST).timestamp()) < until_t:
            rng = rng_for(seed, "hotfix-later", f"{product.code}:{day.isoformat()}")
            if rng.random() < hotfix_rate:
                rel = Release(0, product.code, "Hotfix", round_ms(t0 + (10 + rng.uniform(0, 10)) * HOUR))
                rel.page_created = round_ms(rel.at - rng.uniform(0.5, 2) * HOUR)
                if rel.page_created < until_t:
                    _later_page(rel, rng)
                    out.append(rel)
            day += timedelta(days=1)
    out.sort(key=lambda r: (r.page_created, r.product, r.at))
    for i, r in enumerate(out, len(base)):
        r.index = i
        r.version_id = 10100 + i
    _name_later(base, out)
    for r in out:
        if r.page_edited >= until_t:  # not released yet: the page as created
            r.page_edited = r.page_created + 60
    return out


def _later_page(rel: Release, rng) -> None:
    rel.page_id = uuid4(rng)
    rel.page_edited = round_ms(rel.at + rng.uniform(1, 4) * HOUR)  # edited once released (shown when reached)


def _version_names(releases: list[Release]) -> Iterator[tuple[Release, str]]:
    """One product's releases in time order with their version names, ``<year-2020>.<regular>.<hotfix>``
    (a regular release bumps the minor number, a hotfix the patch; both restart each year)."""
    year, minor, patch = 0, 0, 0
    for r in sorted(releases, key=lambda r: r.at):
        y = to_jst(r.at).year
        if y != year:
            year, minor, patch = y, 0, 0
        if r.kind == "Regular":
            minor, patch = minor + 1, 0
        else:
            patch += 1
        yield r, f"{y - 2020}.{minor}.{patch}"


def _name_later(base: list[Release], later: list[Release]) -> None:
    """Version names continue each product's numbering (``<year-2020>.<regular>.<hotfix>``)."""
    new = {id(r) for r in later}
    for product in PRODUCTS:
        for r, name in _version_names([r for r in base + later if r.product == product.code]):
            if id(r) in new:
                r.name = name
