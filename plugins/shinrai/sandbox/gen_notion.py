"""System Risk Records (Notion) of the organisation."""

from __future__ import annotations

from datetime import timedelta

from .ids import rng_for, round_ms, uuid4
from .model import PRODUCTS, RISK_PRIORITIES, Issue, RiskRecord
from .text import RISKS, SUBSYSTEMS
from .timefmt import at_midnight_jst, to_jst

HOUR = 3600.0
DAY = 86400.0


def generate_risks(
    seed: int, scale: float, start_t: float, anchor_t: float, team_t: float,
    assignable: list[int], incidents: list[Issue], actions: list[Issue],
) -> list[RiskRecord]:
    n = max(1, round(150 * scale))
    pool_rng = rng_for(seed, "risk-pool")
    pool = pool_rng.sample(assignable, min(12, len(assignable)))
    pool_w = [1.0 / (k + 1) ** 1.3 for k in range(len(pool))]
    inc_by_product: dict[str, list[str]] = {p.code: [] for p in PRODUCTS}
    for i in incidents:
        inc_by_product[i.product].append(i.key)
    act_by_product: dict[str, list[str]] = {p.code: [] for p in PRODUCTS}
    for a in actions:
        act_by_product[a.product].append(a.key)
    anchor_day = to_jst(anchor_t).date()
    out: list[RiskRecord] = []
    for i in range(n):
        r = rng_for(seed, "risk", i)
        if r.random() < 0.85:
            created = team_t + r.random() * (anchor_t - team_t - DAY)
        else:
            created = start_t + r.random() * (team_t - start_t)
        created = round_ms(created)
        product = r.choice(PRODUCTS).code
        age_days = (anchor_t - created) / DAY
        closed = r.random() < min(0.85, age_days / 365 * 0.8)
        if closed:
            status = "Closed"
            closed_t = created + r.uniform(0.2, 0.9) * (anchor_t - created)
            reviewed = to_jst(closed_t).date()
        else:
            status = r.choices(("Open", "Investigating", "Mitigating", "Monitoring"), (30, 30, 20, 20))[0]
            reviewed = anchor_day - timedelta(days=r.randint(1, 35))
            if r.random() < 0.04:
                reviewed = anchor_day - timedelta(days=r.randint(121, 200))
        last_reviewed = reviewed.isoformat() if reviewed >= to_jst(created).date() else None
        k = r.choices((0, 1, 2), (8, 80, 12))[0]
        assignees = tuple(dict.fromkeys(r.choices(pool, pool_w, k=k)))
        recognized = created - r.uniform(0, 5) * DAY
        edited = created + r.uniform(0.01, 0.5) * DAY
        if last_reviewed is not None:
            edited = max(edited, at_midnight_jst(reviewed) + r.uniform(9, 19) * HOUR)
        edited = min(edited, anchor_t - r.uniform(0.1, 2) * HOUR)
        related_pool = inc_by_product[product]
        related = tuple(r.sample(related_pool, min(len(related_pool), r.choice((0, 1, 1, 2, 3)))))
        acts = act_by_product[product]
        backlog = f"https://example.atlassian.net/browse/{r.choice(acts)}" if acts and r.random() < 0.5 else None
        sub = r.choice(SUBSYSTEMS)
        out.append(RiskRecord(
            index=i, page_id=uuid4(r), created=created, edited=round_ms(max(edited, created)),
            title_variant=r.randrange(len(RISKS)), subsystem=sub, status=status,
            priority=r.choices(RISK_PRIORITIES, (25, 45, 30))[0], assignees=assignees, product=product,
            recognized=round_ms(recognized), recognized_date_only=r.random() < 0.6,
            last_reviewed=last_reviewed, dashboard=f"https://grafana.example.com/d/{product}-{sub}",
            backlog=backlog, related=related, creator=r.choice(assignable),
        ))
    out.sort(key=lambda x: (x.created, x.index))
    _many_related(seed, out, {p.code: inc_by_product[p.code] + act_by_product[p.code] for p in PRODUCTS})
    return out


MANY_RELATED = 30  # more than a Notion page object carries of a relation (25, then has_more)


def _many_related(seed: int, risks: list[RiskRecord], keys_by_product: dict[str, list[str]]) -> None:
    """A few risk records relate to many incidents and actions (a recurring weakness), so a relation shape
    has pages past Notion's 25-entry truncation; a separate random stream keeps every other draw as it was."""
    r = rng_for(seed, "many-related")
    candidates = [x for x in risks if len(keys_by_product[x.product]) >= MANY_RELATED]
    for risk in r.sample(candidates, min(len(candidates), 2)):
        picked = r.sample(keys_by_product[risk.product], MANY_RELATED)
        risk.related = tuple(sorted(picked, key=lambda k: (k.rsplit("-", 1)[0], int(k.rsplit("-", 1)[1]))))
