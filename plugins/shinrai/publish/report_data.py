"""What the monthly reliability report shows, read from a publication (never the working warehouse).

Every figure is computed in dbt and read here as rows: ``rpt_report_figures`` (month x scope x
metric: the headline KPIs, the per-product and all-product counts, response-time medians and
percentiles, timeliness and overdue actions, each with its n, previous month, 12-month average and
the changes against both; closed months as published in the snapshots),
``rpt_report_breakdowns`` (incidents by detection route and development category, as published) and
``rpt_overdue_action_ageing`` (overdue actions by age). This module only picks rows and formats
them. Also read: ``fct_incidents`` (the month's incident list, severities),
``fct_prevention_actions`` (overdue by team), ``fct_risk_records`` and ``rpt_risk_assignee_load``
(risk register), ``rpt_slo_attainment`` (SLO table), ``rpt_reliability_monthly`` (the months the
publication covers), ``dim_products`` (names, teams, colours). The taxonomy reference tables give
the Japanese names and display order; without them the names are shown as entered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from shinrai.publish.i18n import Count, Labeler
from shinrai.publish.layout import PUBLICATION_TABLE

TREND_MONTHS = 24
WINDOW_MONTHS = 12
STAGES = ("detect", "acknowledge", "mitigate", "recover")
# Okabe-Ito: distinguishable with the common colour-vision deficiencies; one colour per product,
# in dim_products.sort_order, the same in every chart and table.
PRODUCT_PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#332288", "#117733",
                   "#882255", "#44AA99")
UNKNOWN_COLOR = "#9E9E9E"
# by severity rank (most severe first); a rank beyond the palette takes its last colour
SEVERITY_PALETTE = ("#8E0F2E", "#D7301F", "#FC8D59", "#9ECAE1")
UNCLASSIFIED_COLOR = "#BDBDBD"
PRIORITY_COLORS = {"high": "#D7301F", "medium": "#FC8D59", "low": "#91BFDB", "other": "#BDBDBD"}
CATEGORY_PALETTE = ("#4E79A7", "#F28E2B", "#E15759", "#76B7B2", "#59A14F", "#EDC948", "#B07AA1", "#FF9DA7",
                    "#9C755F", "#BAB0AC")
# below this many events in an SLO window an exhausted error budget says more about the sample than about
# the service (one late action of one due spends the budget of an 80% objective five times over)
SMALL_SAMPLE = 5
RISK_STATUS_ORDER = ("Open", "Investigating", "Mitigating", "Monitoring", "Closed")
OBJECTIVE_ORDER = ("availability", "mttr", "postmortem_on_time", "action_on_time")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class ReportError(ValueError):
    """The report cannot be built for this month or from this publication."""


def parse_month(value: str) -> date:
    match = _MONTH.match(value.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ReportError(f"month must look like 2026-10, got {value!r}")
    return date(int(match.group(1)), int(match.group(2)), 1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def month_key(month: date) -> str:
    return month.strftime("%Y-%m")


def fmt_minutes(value: float | None) -> str:
    if value is None:
        return "–"
    minutes = round(float(value))
    if minutes < 60:
        return f"{minutes}m"
    if minutes < 24 * 60:
        return f"{minutes // 60}h {minutes % 60:02d}m"
    days, rest = divmod(minutes, 24 * 60)
    return f"{days}d {rest // 60}h"


def fmt_pct(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value * 100:.{digits}f}%"


def fmt_value(unit: str, value: float | None) -> str:
    """A figure of ``rpt_report_figures`` in its unit: count ``12``, share ``87%``, minutes ``7h 13m``."""
    if unit == "share":
        return fmt_pct(value)
    if unit == "minutes":
        return fmt_minutes(value)
    return "–" if value is None else f"{value:.0f}"


def severity_color(rank: int | None) -> str:
    if rank is None or rank < 1:
        return UNCLASSIFIED_COLOR
    return SEVERITY_PALETTE[min(rank, len(SEVERITY_PALETTE)) - 1]


def delta(change: float | None, unit: str = "count", higher_is_better: bool = False) -> dict[str, Any]:
    """A change computed in dbt, for display in the unit of the value it qualifies: ``+2``, ``−1.5``,
    ``+4 pt`` (a share), ``+11m``, ``−1h 05m`` (minutes: the same format as the value, "7h 13m +11m"),
    and whether it is good news."""
    if change is None:
        return {"text": "–", "tone": "neutral"}
    as_pct_points, minutes = unit == "share", unit == "minutes"
    diff = change * 100 if as_pct_points else change
    if abs(diff) < (0.5 if minutes else 0.05):
        return {"text": "±0", "tone": "neutral"}
    if minutes:
        number = fmt_minutes(abs(diff))
    else:
        number = f"{abs(diff):.0f}" if float(diff).is_integer() else f"{abs(diff):.1f}"
    text = ("+" if diff > 0 else "−") + number + (" pt" if as_pct_points else "")
    good = diff > 0 if higher_is_better else diff < 0
    return {"text": text, "tone": "good" if good else "bad"}


def budget_text(labels: Labeler, remaining_share: float | None, n: int | None) -> dict[str, Any] | None:
    """The error budget of an SLO cell: "Budget left 77%", or, once overspent, "Budget exhausted (−400% left)"
    with the number kept and, below ``SMALL_SAMPLE`` events, "n=1: too few to judge" beside it."""
    if remaining_share is None:
        return None
    share = fmt_pct(remaining_share).replace("-", "−")
    if remaining_share >= 0:
        return {"text": f"{labels.t('budget_left')} {share}", "exhausted": False}
    text = labels.t("budget_exhausted", share=share)
    if n is not None and n < SMALL_SAMPLE:
        text += " · " + labels.t("small_sample", n=n)
    return {"text": text, "exhausted": True}


@dataclass
class _Db:
    con: duckdb.DuckDBPyConnection

    def rows(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        cursor = self.con.execute(sql, params or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def one(self, sql: str, params: list[Any] | None = None) -> dict[str, Any]:
        rows = self.rows(sql, params)
        return rows[0] if rows else {}

    def has_table(self, name: str) -> bool:
        row = self.con.execute(
            "select count(*) from information_schema.tables where table_schema = 'main' and table_name = ?", [name]
        ).fetchone()
        return bool(row and row[0])


REQUIRED_TABLES = ("dim_products", "fct_incidents", "fct_prevention_actions", "fct_risk_records",
                   "rpt_reliability_monthly", "rpt_report_figures", "rpt_report_breakdowns",
                   "rpt_overdue_action_ageing",
                   "rpt_slo_attainment", "rpt_risk_assignee_load")
ALL = "all"  # rpt_report_figures.scope of every product together


class Figures:
    """The rows of ``rpt_report_figures`` of some months, looked up by scope, metric and month."""

    def __init__(self, rows: list[dict[str, Any]]):
        self.rows = {(r["scope"], r["metric"], r["month_start"]): r for r in rows}

    def row(self, scope: str, metric: str, month: date) -> dict[str, Any]:
        return self.rows.get((scope, metric, month), {})

    def value(self, scope: str, metric: str, month: date) -> float | None:
        return self.row(scope, metric, month).get("value")

    def count(self, scope: str, metric: str, month: date) -> int:
        """A count figure as an integer (no row: nothing counted)."""
        return int(self.value(scope, metric, month) or 0)

    def series(self, scope: str, metric: str, months: list[date]) -> list[float | None]:
        return [self.value(scope, metric, x) for x in months]

    def headline(self, month: date) -> list[dict[str, Any]]:
        return sorted((r for (scope, _, x), r in self.rows.items()
                       if scope == ALL and x == month and r.get("headline_key")),
                      key=lambda r: r["headline_order"])


def default_month(db: _Db) -> date:
    """The last closed month of the publication (the as-of date's previous month), else the current one."""
    row = db.one("select max(month_start) filter (where is_month_closed) as closed, max(month_start) as latest "
                 "from rpt_reliability_monthly")
    month = row.get("closed") or row.get("latest")
    if month is None:
        raise ReportError("rpt_reliability_monthly is empty: nothing to report")
    return month


def _taxonomy(db: _Db, table: str, key: str) -> list[dict[str, Any]]:
    if not db.has_table(table):
        return []
    return db.rows(f"select {key} as value, name_ja, sort_order from {table} order by sort_order, {key}")


class ReportBuilder:
    def __init__(self, con: duckdb.DuckDBPyConnection, labels: Labeler, timezone: str):
        self.db = _Db(con)
        self.l = labels
        missing = [t for t in REQUIRED_TABLES if not self.db.has_table(t)]
        if missing:
            raise ReportError(f"the publication has no {', '.join(missing)}: publish the marts first")
        self.publication = self.db.one(f"select * from {PUBLICATION_TABLE}") \
            if self.db.has_table(PUBLICATION_TABLE) else {}
        # the zone the marts' months were bucketed in, as recorded by the publication
        self.timezone = self.publication.get("reporting_timezone") or timezone

    # -- months -------------------------------------------------------------------------------
    def resolve_month(self, month: str | None) -> date:
        if month is None:
            return default_month(self.db)
        chosen = parse_month(month)
        bounds = self.db.one("select min(month_start) as first, max(month_start) as last from rpt_reliability_monthly")
        if bounds.get("first") is None or not bounds["first"] <= chosen <= bounds["last"]:
            raise ReportError(
                f"no data for {month_key(chosen)}: the publication covers "
                f"{month_key(bounds['first']) if bounds.get('first') else '-'} to "
                f"{month_key(bounds['last']) if bounds.get('last') else '-'}"
            )
        return chosen

    # -- the whole report ---------------------------------------------------------------------
    def build(self, month: str | None = None) -> dict[str, Any]:
        m = self.resolve_month(month)
        months24 = [add_months(m, i) for i in range(-(TREND_MONTHS - 1), 1)]
        months12 = months24[-WINDOW_MONTHS:]
        monthly = self.db.rows(
            "select product_code, month_start, is_month_closed, as_of_date from rpt_reliability_monthly "
            "where month_start = ?", [m])
        figures = Figures(self.db.rows(
            "select * from rpt_report_figures where month_start between ? and ?", [months24[0], m]))
        products = self._products(figures, months24)
        publication = self.publication
        as_of = next((r["as_of_date"] for r in monthly if r.get("as_of_date")), None)
        headline = self._headline(products, figures, m, months24)
        kpis = self._kpis(figures, m)
        return {
            "meta": {
                "title": self.l.t("title"),
                "month": month_key(m),
                "previous_month": month_key(add_months(m, -1)),
                "is_month_closed": bool(monthly and all(r["is_month_closed"] for r in monthly)),
                "as_of_date": as_of.isoformat() if as_of else None,
                "publication_id": publication.get("publication_id"),
                "published_at": publication["published_at"].astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
                if publication.get("published_at") else None,
                "source_run_id": publication.get("source_run_id"),
                "timezone": self.timezone,
                "generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                "lang": self.l.html_lang,
                "languages": list(self.l.languages),
            },
            "products": [{k: p[k] for k in ("code", "label", "color", "team")} for p in products],
            "headline": headline,
            "kpis": kpis,
            "charts": {
                "incidents_by_product": self._incidents_by_product(products, figures, months24),
                "incidents_by_severity": self._incidents_by_severity(months12),
                **{f"mttx_{stage}": chart for stage, chart in self._mttx(figures, months12).items()},
                "detection_routes": self._detection_routes(months12),
                "development_categories": self._development_categories(products, months12),
                "timeliness": self._timeliness(figures, months12),
                "overdue_month_end": self._overdue_month_end(products, figures, months12),
                "overdue_ageing": self._overdue_ageing(products),
                "risk_status": self._risk_status(),
                "risk_load": self._risk_load(),
            },
            "tables": {
                "response_by_product": self._response_by_product(products, figures, m),
                "slo": self._slo(products, m),
                "overdue_by_team": self._overdue_by_team(products),
                "incidents": self._incident_list(products, m),
            },
            "notes": {
                "risk": self._risk_note(),
                "quality": self._quality_note(m),
            },
        }

    # -- products -----------------------------------------------------------------------------
    def _products(self, figures: Figures, months: list[date]) -> list[dict[str, Any]]:
        rows = self.db.rows(
            "select product_code, product_name, product_name_ja, owning_team, owning_team_ja, sort_order, "
            "coalesce(is_unknown_member, false) as is_unknown from dim_products "
            "order by is_unknown, sort_order nulls last, product_code"
        )
        with_incidents = {r["product_code"] for r in rows
                          if any(figures.count(r["product_code"], "incident_count", x) for x in months)}
        products = []
        palette_index = 0
        for row in rows:
            if row["is_unknown"] and row["product_code"] not in with_incidents:
                continue
            if row["is_unknown"]:
                color = UNKNOWN_COLOR
            else:
                color = PRODUCT_PALETTE[palette_index % len(PRODUCT_PALETTE)]
                palette_index += 1
            products.append({
                "code": row["product_code"],
                "label": self.l.pair(row["product_name"], row["product_name_ja"]) or row["product_code"],
                "team": self.l.pair(row["owning_team"], row["owning_team_ja"]),
                "color": color,
            })
        return products

    # -- headline -----------------------------------------------------------------------------
    def _headline(self, products: list[dict[str, Any]], figures: Figures, m: date,
                  months24: list[date]) -> dict[str, Any]:
        def row(scope: str, label: str, color: str | None) -> dict[str, Any]:
            figure = figures.row(scope, "incident_count", m)
            last, avg = figure.get("previous_value"), figure.get("avg_12")
            return {
                "code": None if scope == ALL else scope, "label": label, "color": color,
                "this": figures.count(scope, "incident_count", m),
                "last": None if last is None else int(last),
                "avg12": None if avg is None else round(avg, 1),
                "vs_last": delta(figure.get("change_vs_previous")),
                "vs_avg": delta(figure.get("change_vs_avg_12")),
                "sev12": self._major_incidents(figures, scope, m),
                "spark": sparkline([figures.count(scope, "incident_count", x) for x in months24],
                                   color or "#333333"),
            }

        return {
            "rows": [row(p["code"], p["label"], p["color"]) for p in products],
            "total": row(ALL, self.l.t("total"), None),
            "avg_months": figures.row(ALL, "incident_count", m).get("avg_12_months") or 0,
        }

    def _kpis(self, figures: Figures, m: date) -> list[dict[str, Any]]:
        """The headline KPIs: the all-product rows of rpt_report_figures that carry a headline key, each
        labelled ``kpi_<key>``, with its change from last month; rates and times also show their n."""
        kpis = []
        for r in figures.headline(m):
            unit = r["unit"]
            if r["metric"] == "slo_breached_count":  # "2 / 9": breached of the SLO windows judged
                change, sub = {"text": f"/ {r['n'] or 0}", "tone": "neutral"}, ""
            else:
                change = delta(r["change_vs_previous"], unit, r["higher_is_better"])
                sub = f"{self.l.t('last_month')}: {fmt_value(unit, r['previous_value'])}"
                if unit != "count":
                    sub = f"n = {r['n'] or 0}; {sub}"
                if r["metric"] == "incident_count" and r["avg_12"] is not None:
                    sub += f"; {self.l.t('avg_12')}: {round(r['avg_12'], 1)}"
            kpis.append({"key": r["headline_key"], "label": self.l.t(f"kpi_{r['headline_key']}"),
                         "value": fmt_value(unit, r["value"]), "delta": change, "sub": sub})
        return kpis

    # -- charts -------------------------------------------------------------------------------
    def _incidents_by_product(self, products: list[dict[str, Any]], figures: Figures,
                              months: list[date]) -> dict[str, Any]:
        return {
            "type": "stacked_bar",
            "labels": [month_key(x) for x in months],
            "datasets": [{"label": p["label"], "color": p["color"],
                          "data": [figures.count(p["code"], "incident_count", x) for x in months]}
                         for p in products],
        }

    # -- severity: the one place that reads severities (see _severity_counts) ------------------
    def _major_incidents(self, figures: Figures, scope: str, m: date) -> int:
        """Incidents of the levels the configuration flags major (rpt_report_figures.major_incident_count)."""
        return figures.count(scope, "major_incident_count", m)

    def _severity_counts(self, months: list[date]) -> list[dict[str, Any]]:
        """Incidents per month and configured severity level (most severe first, zero months
        included), then the unclassified ones (severity missing or outside the taxonomy, level null).
        Reads ``severity_levels`` (labels), ``rpt_severity_monthly`` (counts per level) and
        ``rpt_reliability_monthly.unclassified_severity_incident_count``: every count is dbt's."""
        if not self.db.has_table("severity_levels") or not self.db.has_table("rpt_severity_monthly"):
            return []
        return self.db.rows(
            "select levels.severity, levels.severity_rank, levels.name_en, levels.name_ja, counts.month_start, "
            "sum(counts.incident_count) as n "
            "from severity_levels as levels join rpt_severity_monthly as counts on counts.severity = levels.severity "
            "where counts.month_start between ? and ? group by all "
            "union all select null, null, null, null, month_start, sum(unclassified_severity_incident_count) "
            "from rpt_reliability_monthly where month_start between ? and ? group by all "
            "order by severity_rank nulls last", [months[0], months[-1], months[0], months[-1]])

    def _incidents_by_severity(self, months: list[date]) -> dict[str, Any]:
        rows = self._severity_counts(months)
        levels = {(r["severity_rank"], r["severity"]): r for r in rows if r["severity"] is not None}
        datasets = [{
            "label": f"{code} " + self.l.pair(levels[(rank, code)]["name_en"], levels[(rank, code)]["name_ja"]),
            "color": severity_color(rank),
            "data": [next((int(r["n"]) for r in rows if r["severity"] == code and r["month_start"] == x), 0)
                     for x in months]} for rank, code in sorted(levels)]
        datasets.append({"label": self.l.t("unclassified"), "color": UNCLASSIFIED_COLOR, "data": [
            next((int(r["n"]) for r in rows if r["severity"] is None and r["month_start"] == x), 0)
            for x in months]})
        return {"type": "stacked_bar", "labels": [month_key(x) for x in months], "datasets": datasets}

    def _mttx(self, figures: Figures, months: list[date]) -> dict[str, dict[str, Any]]:
        charts = {}
        for stage in STAGES:
            def series(statistic: str, stage: str = stage) -> list[float | None]:
                return [None if v is None else round(v, 1)
                        for v in figures.series(ALL, f"minutes_to_{stage}_{statistic}", months)]
            charts[stage] = {
                "type": "mttx",
                "title": self.l.t(f"stage_{stage}"),
                "subtitle": self.l.t(f"stage_{stage}_def"),
                "labels": [month_key(x) for x in months],
                "n": [int(figures.row(ALL, f"minutes_to_{stage}_median", x).get("n") or 0) for x in months],
                "datasets": [
                    {"label": self.l.t("median"), "color": "#0B5394", "data": series("median")},
                    {"label": self.l.t("p90"), "color": "#E06666", "dashed": True, "data": series("p90")},
                ],
            }
        return charts

    def _detection_routes(self, months: list[date]) -> dict[str, Any]:
        taxonomy = _taxonomy(self.db, "detection_routes", "detection_route")
        known = {t["value"]: t for t in taxonomy}
        counts = [r for r in self._breakdown("detection_route", months) if r["scope"] == ALL and r["n"]]
        order = [t["value"] for t in taxonomy]
        order += sorted({r["detection_route"] for r in counts
                         if r["detection_route"] and r["detection_route"] not in known})
        if any(r["detection_route"] is None for r in counts):
            order.append(None)
        datasets = []
        for index, route in enumerate(order):
            label = (self.l.t("missing") if route is None
                     else self.l.pair(route, known[route]["name_ja"]) if route in known else f"{route} (?)")
            datasets.append({"label": label, "color": CATEGORY_PALETTE[index % len(CATEGORY_PALETTE)]
                             if route is not None else UNKNOWN_COLOR, "data": [
                next((r["n"] for r in counts if r["month_start"] == x and r["detection_route"] == route), 0)
                for x in months]})
        return {"type": "stacked_bar", "labels": [month_key(x) for x in months], "datasets": datasets}

    def _breakdown(self, dimension: str, months: list[date]) -> list[dict[str, Any]]:
        """Incidents per month, scope and category of ``dimension`` (rpt_report_breakdowns; the category
        under the dimension's name), with the 12 months' count up to each month."""
        return self.db.rows(
            f"select month_start, scope, category as {dimension}, incident_count as n, "
            "incident_count_12_months as n12 from rpt_report_breakdowns "
            "where dimension = ? and month_start between ? and ?", [dimension, months[0], months[-1]])

    def _development_categories(self, products: list[dict[str, Any]], months: list[date]) -> dict[str, Any]:
        taxonomy = _taxonomy(self.db, "development_categories", "development_category")
        known = {t["value"]: t for t in taxonomy}
        # the 12 months to the reported one, per product
        counts = [r for r in self._breakdown("development_category", months)
                  if r["month_start"] == months[-1] and r["scope"] != ALL and r["n12"]]
        order: list[str | None] = [t["value"] for t in taxonomy]
        order += sorted({r["development_category"] for r in counts
                         if r["development_category"] and r["development_category"] not in known})
        if any(r["development_category"] is None for r in counts):
            order.append(None)
        labels = [self.l.t("missing") if c is None else
                  self.l.pair(c, known[c]["name_ja"]) if c in known else f"{c} (?)" for c in order]
        return {
            "type": "hbar_stacked",
            "labels": labels,
            "datasets": [{"label": p["label"], "color": p["color"], "data": [
                next((r["n12"] for r in counts if r["development_category"] == c and r["scope"] == p["code"]), 0)
                for c in order]} for p in products],
        }

    def _timeliness(self, figures: Figures, months: list[date]) -> dict[str, Any]:
        def percent(metric: str) -> list[float | None]:
            return [None if v is None else round(v * 100, 1) for v in figures.series(ALL, metric, months)]

        return {
            "type": "timeliness",
            "labels": [month_key(x) for x in months],
            "bars": [
                {"label": self.l.t("pm_due"), "color": "#B4C7E7",
                 "data": [figures.count(ALL, "postmortems_due_count", x) for x in months]},
                {"label": self.l.t("act_due"), "color": "#F8CBAD",
                 "data": [figures.count(ALL, "actions_due_count", x) for x in months]},
            ],
            "lines": [
                {"label": self.l.t("pm_rate"), "color": "#1F4E79", "data": percent("postmortem_on_time_rate")},
                {"label": self.l.t("act_rate"), "color": "#C55A11", "data": percent("action_on_time_rate")},
            ],
        }

    def _overdue_month_end(self, products: list[dict[str, Any]], figures: Figures,
                           months: list[date]) -> dict[str, Any]:
        return {
            "type": "stacked_bar",
            "labels": [month_key(x) for x in months],
            "datasets": [{"label": p["label"], "color": p["color"], "data": [
                figures.count(p["code"], "open_overdue_actions_at_month_end", x) for x in months]}
                for p in products],
        }

    def _overdue_ageing(self, products: list[dict[str, Any]]) -> dict[str, Any]:
        rows = self.db.rows("select product_code, bucket_order, bucket_label, overdue_action_count "
                            "from rpt_overdue_action_ageing order by bucket_order")
        labels = list(dict.fromkeys(r["bucket_label"] for r in rows))
        counts = {(r["product_code"], r["bucket_label"]): int(r["overdue_action_count"]) for r in rows}
        codes = [p["code"] for p in products]
        extra = sorted({r["product_code"] for r in rows if r["overdue_action_count"]} - set(codes))
        series = [*products, *({"code": c, "label": c, "color": UNKNOWN_COLOR} for c in extra)]
        return {
            "type": "stacked_bar",
            "labels": labels,
            "datasets": [{"label": p["label"], "color": p["color"], "data": [
                counts.get((p["code"], b), 0) for b in labels]} for p in series],
        }

    def _priority_label(self, key: str) -> str:
        return self.l.t(f"priority_{key}")

    def _risk_status(self) -> dict[str, Any]:
        rows = self.db.rows("select status, lower(coalesce(priority, 'other')) as priority, count(*) as n "
                            "from fct_risk_records group by all")
        statuses = [s for s in RISK_STATUS_ORDER if any(r["status"] == s for r in rows)]
        statuses += sorted({r["status"] or "-" for r in rows} - set(statuses))
        priorities = ("high", "medium", "low", "other")
        return {
            "type": "stacked_bar",
            "labels": statuses,
            "datasets": [{"label": self._priority_label(p), "color": PRIORITY_COLORS[p], "data": [
                sum(r["n"] for r in rows if (r["status"] or "-") == s
                    and (r["priority"] if r["priority"] in priorities else "other") == p) for s in statuses]}
                for p in priorities],
        }

    def _risk_load(self) -> dict[str, Any]:
        rows = self.db.rows("select * from rpt_risk_assignee_load where open_risk_count > 0 "
                            "order by load_rank, display_name limit 12")
        labels = []
        for r in rows:
            name = self.l.t("unassigned") if r["assignee_key"] == "unassigned" else (r["display_name"] or r["email"])
            labels.append(f"{name} ({self.l.t('owner_left')})" if r.get("has_left") else name)
        return {
            "type": "hbar_stacked",
            "labels": labels,
            "datasets": [
                {"label": self._priority_label(p), "color": PRIORITY_COLORS[p],
                 "data": [int(r[f"open_{p if p != 'other' else 'other_priority'}_count"] or 0) for r in rows]}
                for p in ("high", "medium", "low", "other")
            ],
        }

    # -- tables -------------------------------------------------------------------------------
    def _response_by_product(self, products: list[dict[str, Any]], figures: Figures,
                             m: date) -> list[dict[str, Any]]:
        table = []
        for p in products:
            cells = []
            for stage in STAGES:
                median = figures.row(p["code"], f"minutes_to_{stage}_median", m)
                cells.append({"median": fmt_minutes(median.get("value")),
                              "p90": fmt_minutes(figures.value(p["code"], f"minutes_to_{stage}_p90", m)),
                              "n": int(median.get("n") or 0)})
            table.append({"label": p["label"], "color": p["color"], "cells": cells,
                          "incidents": figures.count(p["code"], "incident_count", m)})
        return table

    def _slo(self, products: list[dict[str, Any]], m: date) -> dict[str, Any]:
        """Product x objective matrix of the calendar-month windows."""
        rows = self.db.rows("select * from rpt_slo_attainment where window_type = 'calendar_month' "
                            "and window_start_date = ?", [m])
        objectives: dict[str, str] = {}
        for r in sorted(rows, key=lambda r: (OBJECTIVE_ORDER.index(r["objective"])
                                             if r["objective"] in OBJECTIVE_ORDER else 99, r["objective"])):
            objectives.setdefault(r["objective"],
                                  self.l.pair(r.get("objective_name"), r.get("objective_name_ja")) or r["objective"])
        cells: dict[tuple[str, str], dict[str, Any]] = {}
        for r in rows:
            minutes = r.get("objective_unit") == "minutes"
            digits = 2 if r["objective"] == "availability" else 0

            def show(value: float | None, minutes: bool = minutes, digits: int = digits) -> str:
                return fmt_minutes(value) if minutes else fmt_pct(value, digits)

            status_key = f"status_{r['status']}"
            cells[(r["product_code"], r["objective"])] = {
                "target": show(r["target"]),
                "actual": show(r["actual"]),
                "n": r["n"],
                "budget": budget_text(self.l, r.get("error_budget_remaining_share"), r["n"]),
                "burn_rate": None if r.get("burn_rate") is None else f"{r['burn_rate']:.2f}",
                "status": r["status"],
                "status_label": self.l.t(status_key) if status_key in _STATUS_KEYS else r["status"],
            }
        known = {p["code"] for p in products}
        extra = sorted({r["product_code"] for r in rows} - known)
        series = [*products, *({"code": c, "label": c, "color": UNKNOWN_COLOR} for c in extra)]
        return {
            "objectives": [{"key": k, "label": v} for k, v in objectives.items()],
            "rows": [{"product": p["label"], "color": p["color"],
                      "cells": [cells.get((p["code"], k)) for k in objectives]}
                     for p in series if any((p["code"], k) in cells for k in objectives)],
            "breached": sum(1 for c in cells.values() if c["status"] == "breached"),
        }

    def _overdue_by_team(self, products: list[dict[str, Any]]) -> list[dict[str, Any]]:
        rows = self.db.rows(
            "select a.product_code, p.owning_team, p.owning_team_ja, count(*) as overdue, "
            "max(a.days_overdue) as oldest, median(a.days_overdue) as median_days, "
            "count(distinct a.owner_person_id) as owners, count(*) filter (where a.owner_has_left) as owner_left "
            "from fct_prevention_actions a left join dim_products p on a.product_code = p.product_code "
            "where a.is_overdue group by all order by overdue desc, oldest desc")
        color = {p["code"]: p["color"] for p in products}
        label = {p["code"]: p["label"] for p in products}
        return [{
            "team": self.l.pair(r["owning_team"], r["owning_team_ja"]) or r["product_code"],
            "product": label.get(r["product_code"], r["product_code"]),
            "color": color.get(r["product_code"], UNKNOWN_COLOR),
            "overdue": r["overdue"], "oldest": r["oldest"],
            "median_days": None if r["median_days"] is None else round(float(r["median_days"])),
            "owners": r["owners"], "owner_left": r["owner_left"],
        } for r in rows]

    def _incident_list(self, products: list[dict[str, Any]], m: date) -> list[dict[str, Any]]:
        tz = self.timezone.replace("'", "")
        rows = self.db.rows(
            "select incident_key, product_code, severity, severity_rank, summary, "
            f"strftime(occurred_at at time zone '{tz}', '%Y-%m-%d %H:%M') as occurred, "
            "minutes_to_recover, detection_route, development_category, postmortem_status, is_change_related "
            "from fct_incidents where occurred_month = ? order by occurred_at, incident_key", [m])
        color = {p["code"]: p["color"] for p in products}
        label = {p["code"]: p["label"] for p in products}
        routes = {t["value"]: t for t in _taxonomy(self.db, "detection_routes", "detection_route")}
        categories = {t["value"]: t for t in _taxonomy(self.db, "development_categories", "development_category")}

        def name(value: str | None, known: dict[str, dict[str, Any]]) -> str:
            if value is None:
                return self.l.t("missing")
            return self.l.pair(value, known[value]["name_ja"]) if value in known else f"{value} (?)"

        return [{
            "key": r["incident_key"],
            "product": label.get(r["product_code"], r["product_code"]),
            "color": color.get(r["product_code"], UNKNOWN_COLOR),
            "severity": r["severity"] or "–",
            "severity_color": severity_color(r["severity_rank"]),
            "summary": r["summary"] or "",
            "occurred": r["occurred"] or "–",
            "recover": fmt_minutes(r["minutes_to_recover"]),
            "detection": name(r["detection_route"], routes),
            "development": name(r["development_category"], categories),
            "change_related": bool(r["is_change_related"]),
            "postmortem": self.l.t(f"pm_{r['postmortem_status']}") if r["postmortem_status"] in _PM_STATUSES
            else (r["postmortem_status"] or "–"),
        } for r in rows]

    def _risk_note(self) -> list[str]:
        risk = self.db.one("select count(*) filter (where is_open) as open, "
                           "count(*) filter (where is_open and is_stale) as stale from fct_risk_records")
        top = self.db.one("select max(share_of_open_risks) as share from rpt_risk_assignee_load "
                          "where assignee_key <> 'unassigned'")
        return self.l.lines("risk_note", open=risk.get("open") or 0, stale=risk.get("stale") or 0,
                        share=fmt_pct(top.get("share")))

    def _quality_note(self, m: date) -> list[str]:
        issues = changes = 0
        if self.db.has_table("rpt_classification_issues"):
            issues = self.db.one("select count(*) as n from rpt_classification_issues where occurred_month = ?",
                                 [m]).get("n", 0)
        if self.db.has_table("rpt_changes_since_last_publication"):
            changes = self.db.one("select count(*) as n from rpt_changes_since_last_publication "
                                  "where published_month = ?", [m]).get("n", 0)
        return self.l.lines("quality_note", issues=Count("count_classification_problems", int(issues or 0)),
                            changes=Count("count_changes", int(changes or 0)))


_STATUS_KEYS = {"status_met", "status_at_risk", "status_breached", "status_no_data", "status_no_target"}
_PM_STATUSES = {"completed", "in_progress", "missing", "not_required"}


def sparkline(values: list[int], color: str, width: int = 120, height: int = 28) -> str:
    """A tiny inline SVG line (drawn server-side: readable even with scripts off)."""
    if not values:
        return ""
    top = max(values) or 1
    step = width / max(len(values) - 1, 1)
    points = " ".join(f"{i * step:.1f},{height - 2 - (v / top) * (height - 4):.1f}" for i, v in enumerate(values))
    last_x, last_y = (len(values) - 1) * step, height - 2 - (values[-1] / top) * (height - 4)
    return (f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
            f'role="img" aria-label="{" ".join(str(v) for v in values)}">'
            f'<polyline fill="none" stroke="{color}" stroke-width="1.6" points="{points}"/>'
            f'<circle cx="{last_x:.1f}" cy="{last_y:.1f}" r="2.4" fill="{color}"/></svg>')


def open_publication(path: Path) -> duckdb.DuckDBPyConnection:
    if not Path(path).exists():
        raise ReportError(f"no publication at {path}: run the nightly job (or `shinrai publish`) first")
    return duckdb.connect(str(path), read_only=True)


def collect(path: Path, labels: Labeler, timezone: str, month: str | None = None) -> dict[str, Any]:
    with open_publication(path) as con:
        return ReportBuilder(con, labels, timezone).build(month)


__all__ = ["ReportBuilder", "ReportError", "collect", "default_month", "fmt_minutes", "parse_month"]
