"""The monthly reliability report: one self-contained HTML file (data, CSS and Chart.js inlined).

It reads the **publication** (``publish/marts.duckdb``), never the working warehouse, so it can be
built at any time, also while the pipeline runs. Without a month it reports the publication's
last closed month (the month before its as-of date): a month still in progress would show fewer
incidents than it will end with and read as an improvement. Any month the publication covers can
be asked for (``shinrai report --month 2026-10``); an open month carries a visible warning.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from shinrai import config as config_mod
from shinrai.publish.docs import write_atomically
from shinrai.publish.i18n import Labeler
from shinrai.publish.layout import PublishLayout, layout
from shinrai.publish.report_data import ReportError, collect

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).parent
STATIC_DIR = PACKAGE_DIR / "static"
TEMPLATES_DIR = PACKAGE_DIR / "templates"
CHART_JS = STATIC_DIR / "vendor" / "chart.js" / "chart.umd.min.js"


def _inline_script(text: str) -> str:
    """Script text safe inside <script>: no source-map fetch, no early </script>."""
    lines = [line for line in text.splitlines() if not line.startswith("//# sourceMappingURL=")]
    return "\n".join(lines).replace("</script", "<\\/script")


def _json_for_html(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


_HYPHENATED = re.compile(r"\S*\w-\w\S*")


def words(text: object) -> Markup:
    """A table label whose line breaks fall only between words.

    The report's CSS sets ``word-break: keep-all`` on table cells, so a Japanese run ("給与計算") is
    never split between its characters; a browser would still break after a hyphen ("P1-|2",
    "12-|month"), so every hyphenated word is kept on one line here.
    """
    return Markup(_HYPHENATED.sub(lambda m: f'<span class="nobr">{m.group(0)}</span>', str(escape(text))))


def render(data: dict[str, Any], labels: Labeler) -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["words"] = words
    template = env.get_template("report.html.j2")
    return template.render(
        **data,
        t=labels.t,
        lines=labels.lines,
        css=(STATIC_DIR / "report.css").read_text(encoding="utf-8"),
        chart_js=_inline_script(CHART_JS.read_text(encoding="utf-8")),
        report_js=_inline_script((STATIC_DIR / "report.js").read_text(encoding="utf-8")),
        data_json=_json_for_html({"meta": data["meta"], "charts": data["charts"]}),
    )


def build_report(
    month: str | None = None,
    out: Path | None = None,
    *,
    publication: Path | None = None,
    languages: tuple[str, ...] | None = None,
    timezone: str | None = None,
    target: PublishLayout | None = None,
) -> Path:
    """Write the report for ``month`` (YYYY-MM; default: the last closed month) and return its path.

    Defaults: the current publication, ``reporting.languages`` and ``reporting.timezone`` from the
    configuration, and ``<publish>/reports/reliability-<month>.html``.
    """
    target = target or layout()
    if languages is None or timezone is None:
        cfg = config_mod.load()
        languages = languages or cfg.languages
        timezone = timezone or cfg.timezone
    labels = Labeler(languages)
    data = collect(publication or target.duckdb_file, labels, timezone, month)
    html = render(data, labels)
    path = Path(out) if out else target.report_file(data["meta"]["month"])
    write_atomically(path, html)
    log.info("monthly reliability report for %s written to %s", data["meta"]["month"], path)
    return path


__all__ = ["ReportError", "build_report", "render"]
