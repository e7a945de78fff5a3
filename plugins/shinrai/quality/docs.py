"""Data Docs that render with no network.

GX's Data Docs templates load Bootstrap, jQuery, Popper, bootstrap-table, bootstrap-datepicker,
Font Awesome and Vega from public CDNs, and the GX logo from S3 (with a tracking query string).
:class:`OfflineSiteBuilder` is GX's ``SiteBuilder`` (configured as the site's ``class_name`` in
``great_expectations.yml``, so GX's ``UpdateDataDocsAction`` uses it) that, after each build,
copies the vendored files (``static/vendor/``, npm distribution files with their licences) into
the site and rewrites the pages it just wrote to point at them with relative paths.

:class:`BatchedUpdateDataDocsAction` is GX's ``UpdateDataDocsAction`` building once per checkpoint
run instead of once per validation result; before building, it stamps the gate's decision for the
run (:func:`shinrai.quality.gx.gate_decision`) into each stored validation result's ``meta``
(``shinrai_gate``), so the decision is part of the record every later rebuild renders from.

Severity and the gate's decision are rendered by GX's own renderers, subclassed (GX 1.x renders
neither: an expectation's ``severity`` appears nowhere in Data Docs):

* :class:`SeverityValidationResultsPageRenderer` (the site's ``validations`` section renderer) puts a
  banner with the run's decision at the top of each validation page and says "Failed (warnings
  only)" with a warning icon when no failed rule of the suite is critical;
* :class:`SeverityValidationResultsTableContentBlockRenderer` (its table renderer) adds a Severity
  column ("critical: blocks publication" / "warning: publication not blocked" on a failure) and
  gives a failed warning rule an amber icon instead of GX's red cross;
* :class:`SeverityExpectationSuitePageRenderer` puts each rule's severity before it on the suite pages;
* :class:`SeveritySiteIndexBuilder` and :class:`SeveritySiteIndexPageRenderer` add the decision of
  the latest run as a banner on the index, a Publication column, and the same icons per row.

They are wired in ``data_docs_sites`` (:data:`shinrai.quality.gx.DATA_DOCS_SITES`) and only add to
the content objects GX renders, so GX's markup, escaping and the offline rewrite are unchanged.
The decision says "goes ahead", not "published": the docs are written when the gate decides,
before the publish step (a backfill never publishes; ``shinrai.quality.gate.blocker`` checks again).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple
from urllib.parse import unquote, urlparse

from great_expectations.checkpoint.actions import UpdateDataDocsAction
from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResult
from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier
from great_expectations.render import RenderedHeaderContent, RenderedStringTemplateContent
from great_expectations.render.renderer.content_block.bullet_list_content_block import (
    ExpectationSuiteBulletListContentBlockRenderer,
)
from great_expectations.render.renderer.content_block.validation_results_table_content_block import (
    ValidationResultsTableContentBlockRenderer,
)
from great_expectations.render.renderer.page_renderer import (
    ExpectationSuitePageRenderer,
    ValidationResultsPageRenderer,
)
from great_expectations.render.renderer.site_builder import DefaultSiteIndexBuilder, SiteBuilder
from great_expectations.render.renderer.site_index_page_renderer import SiteIndexPageRenderer

if TYPE_CHECKING:
    from great_expectations.checkpoint.actions import ActionContext
    from great_expectations.checkpoint.checkpoint import CheckpointResult

log = logging.getLogger(__name__)

VENDOR_DIR = Path(__file__).resolve().parent / "static" / "vendor"
# Every CDN URL in great_expectations/render/view/templates -> its vendored copy under VENDOR_DIR.
CDN_ASSETS: dict[str, str] = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap-4.3.1/css/bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap-4.3.1/js/bootstrap.min.js",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery-3.7.1/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js":
        "popper.js-1.12.9/umd/popper.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css":
        "bootstrap-datepicker-1.9.0/css/bootstrap-datepicker.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js":
        "bootstrap-datepicker-1.9.0/js/bootstrap-datepicker.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css":
        "fontawesome-free-6.6.0/css/all.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css":
        "bootstrap-table-1.19.1/bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js":
        "bootstrap-table-1.19.1/bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js":
        "bootstrap-table-1.19.1/extensions/filter-control/bootstrap-table-filter-control.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css":
        "bootstrap-table-1.19.1/extensions/filter-control/bootstrap-table-filter-control.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css":
        "bootstrap-table-1.19.1/extensions/filter-control/bootstrap-table-filter-control.min.css",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css":
        "bootstrap-dark-1.1.0/css/bootstrap-prefers-dark.css",
    "https://cdn.jsdelivr.net/npm/vega@5": "vega-5.33.1/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite-5.23.0/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed-6.29.0/vega-embed.min.js",
}
_ASSET_ATTR = re.compile(r'\b(src|href)="(https?://[^"]+)"')
_GX_IMAGES = re.compile(
    r'"https://great-expectations-web-assets\.s3\.us-east-2\.amazonaws\.com/([A-Za-z0-9_.-]+)(?:\?[^"]*)?"'
)
_LOCAL_STATIC = re.compile(r'\b(src|href)="(?:\./|(?:\.\./)+)static/')
# Subresource integrity and CORS mode would make browsers refuse the file:// copies.
_SRI = re.compile(r'\s+(?:integrity="[^"]*"|crossorigin="[^"]*")')
# <script src=...> and <link ... href=...> that still point at the network after the rewrite.
REMOTE_ASSET = re.compile(r'<(?:script|link)\b[^>]*\b(?:src|href)="https?://', re.IGNORECASE)


def site_root(site_builder: SiteBuilder) -> Path | None:
    url = site_builder.get_resource_url(only_if_exists=False)
    if not url or not url.startswith("file://"):
        return None  # a site on object storage: nothing to rewrite locally
    return Path(unquote(urlparse(url).path)).parent


def rewrite_page(text: str, page: Path, root: Path) -> str:
    """Point one page's CDN assets at the vendored copies, relative to the page."""
    to_root = os.path.relpath(root, page.parent).replace(os.sep, "/")
    prefix = "" if to_root == "." else to_root + "/"

    def asset(match: re.Match[str]) -> str:
        vendored = CDN_ASSETS.get(match.group(2))
        if vendored is None:
            return match.group(0)
        return f'{match.group(1)}="{prefix}static/vendor/{vendored}"'

    text = _ASSET_ATTR.sub(asset, text)
    text = _GX_IMAGES.sub(lambda m: f'"{prefix}static/images/{m.group(1)}"', text)
    # GX's favicon template climbs one directory too few on validation pages
    text = _LOCAL_STATIC.sub(lambda m: f'{m.group(1)}="{prefix}static/', text)
    return _SRI.sub("", text)


def make_offline(root: Path, since: float | None = None) -> list[Path]:
    """Copy the vendored assets into the site and rewrite its pages (those modified since
    ``since``, or all). Returns the pages that still load a remote script or stylesheet."""
    shutil.copytree(VENDOR_DIR, root / "static" / "vendor", dirs_exist_ok=True)
    remote = []
    for page in root.rglob("*.html"):
        if since is not None and page.stat().st_mtime < since:
            continue
        text = page.read_text(encoding="utf-8")
        new = rewrite_page(text, page, root)
        if new != text:
            page.write_text(new, encoding="utf-8")
        if REMOTE_ASSET.search(new):
            remote.append(page)
    for page in remote:
        log.warning("Data Docs page %s still loads a remote asset (GX templates changed?)", page)
    return remote


# -- severity and the gate's decision ------------------------------------------------------------

GATE_META = "shinrai_gate"  # key of the gate's decision in a stored validation result's meta
# What a failed rule of each severity means for publication, and how it looks (Bootstrap 4 and
# Font Awesome 6 classes, both vendored). GX's own red cross stays for critical failures; its
# amber triangle stays for a rule that raised an error.
SEVERITY_LOOK: dict[str, dict[str, Any]] = {
    "critical": {"badge": "badge-danger", "failed": "blocks publication", "icon": ["fa-times", "text-danger"]},
    "warning": {"badge": "badge-warning", "failed": "publication not blocked",
                "icon": ["fa-exclamation-circle", "text-warning"]},
}
OTHER_SEVERITY = {"badge": "badge-secondary", "failed": "publication not blocked",
                  "icon": ["fa-info-circle", "text-info"]}


def severity_of(config: Any) -> str:
    """The severity GX 1.x stores on each expectation configuration (``critical``, GX's default,
    unless the rule says otherwise)."""
    severity = getattr(config, "severity", None)
    return str(getattr(severity, "value", severity) or "critical")


def _look(severity: str) -> dict[str, Any]:
    return SEVERITY_LOOK.get(severity, OTHER_SEVERITY)


def _icon(classes: list[str], title: str) -> RenderedStringTemplateContent:
    return RenderedStringTemplateContent(
        content_block_type="string_template",
        string_template={
            "template": "$icon",
            "params": {"icon": ""},
            "styling": {"params": {"icon": {"tag": "i", "classes": ["fas", *classes],
                                            "attributes": {"title": title, "aria-hidden": "true"}}}},
        },
    )


class GateText(NamedTuple):
    headline: str  # the decision, one line
    detail: str  # the rules behind it
    level: str  # Bootstrap context: success / warning / danger / secondary
    label: str  # a few words, for the index's Publication column


def gate_text(gate: dict[str, Any] | None) -> GateText:
    """How Data Docs state the gate's decision for a run. Only states what the gate decided
    (:func:`shinrai.quality.gx.gate_decision`, stored with the run's results); never re-decides."""
    from shinrai.quality.gate import GATE_CHECKPOINTS

    if not gate:
        return GateText("Publication: not recorded for this run",
                        "validated before Data Docs recorded the gate's decision", "secondary", "not recorded")
    critical, warnings = list(gate.get("critical_failures") or []), list(gate.get("warnings") or [])
    checkpoint = str(gate.get("checkpoint"))
    detail = "; ".join(f"{name}: {', '.join(rules)}" for name, rules in (("critical", critical), ("warning", warnings))
                       if rules) or "every rule passed"
    if checkpoint not in GATE_CHECKPOINTS:
        gates = " and ".join(GATE_CHECKPOINTS)
        if critical:
            return GateText(f"Checkpoint {checkpoint} failed {len(critical)} critical rule(s): the pipeline stops "
                            f"here (publication is decided by the {gates} checkpoints)", detail, "danger",
                            "pipeline stopped")
        return GateText(f"Checkpoint {checkpoint} does not decide publication (the {gates} checkpoints do): "
                        f"no critical failure, {len(warnings)} warning(s)", detail, "secondary", "not a gate")
    if critical:
        return GateText(f"Blocked by {len(critical)} critical rule(s): not published, the previous publication "
                        "stays live", detail, "danger", f"blocked ({len(critical)} critical)")
    if warnings:
        return GateText(f"Warnings only: publication goes ahead ({len(warnings)} warning rule(s) failed; "
                        "warnings never block)", detail, "warning", "goes ahead (warnings only)")
    return GateText("Gate passed: publication goes ahead", detail, "success", "goes ahead")


def _gate_banner(gate: dict[str, Any] | None, prefix: str = "") -> RenderedHeaderContent:
    headline, detail, level, _ = gate_text(gate)
    return RenderedHeaderContent(
        content_block_type="header",
        header=RenderedStringTemplateContent(
            content_block_type="string_template",
            string_template={"template": "$headline", "params": {"headline": prefix + headline},
                             "tag": "h5", "styling": {"classes": ["m-0", "shinrai-gate"]}},
        ),
        subheader=RenderedStringTemplateContent(
            content_block_type="string_template",
            string_template={"template": "$detail", "params": {"detail": detail},
                             "styling": {"classes": ["mb-0", "mt-1", "small"]}},
        ),
        styling={"classes": ["col-12", "p-0"], "header": {"classes": ["alert", f"alert-{level}", "mb-1"]}},
    )


class SeverityValidationResultsTableContentBlockRenderer(ValidationResultsTableContentBlockRenderer):
    """GX's table of expectation results with a Severity column and severity-coloured icons."""

    @classmethod
    def _process_content_block(cls, content_block: Any, has_failed_evr: Any, render_object: Any = None) -> None:
        super()._process_content_block(content_block, has_failed_evr, render_object=render_object)
        content_block.header_row.insert(1, "Severity")
        content_block.header_row_options["Severity"] = {"sortable": True}

    @classmethod
    def _get_content_block_fn(cls, expectation_type: str, expectation_config: Any = None) -> Any:
        return _with_severity(super()._get_content_block_fn(expectation_type, expectation_config))

    @classmethod
    def _get_missing_evr_content_block_fn(cls) -> Any:
        return _with_severity(super()._get_missing_evr_content_block_fn())


def _with_severity(row_fn: Any) -> Any:
    """Wrap a row function of the table renderer: a severity cell after the status, and a failed
    rule's icon in its severity's colour."""
    if row_fn is None:
        return None

    def rows(*args: Any, **kwargs: Any) -> Any:
        out = row_fn(*args, **kwargs)
        result = kwargs.get("result")
        if result is None or not isinstance(out, list):
            return out
        severity = severity_of(result.expectation_config)
        look = _look(severity)
        raised = bool((getattr(result, "exception_info", None) or {}).get("raised_exception"))
        failed = not result.success
        label = f"{severity}: {look['failed']}" if failed else severity
        cell = RenderedStringTemplateContent(
            content_block_type="string_template",
            string_template={"template": "$severity", "params": {"severity": label},
                             "styling": {"params": {"severity": {"classes": [
                                 "badge", look["badge"] if failed else "badge-light",
                                 f"shinrai-severity-{severity}"]}}}},
        )
        for row in out:
            if isinstance(row, list) and len(row) >= 2:  # noqa: PLR2004 - [status, expectation, ...]
                if failed and not raised:
                    row[0] = _icon(look["icon"], label)
                row.insert(1, cell)
        return out

    return rows


class SeverityValidationResultsPageRenderer(ValidationResultsPageRenderer):
    """GX's validation page with the run's publication decision on top, and a suite whose failed
    rules are all warnings shown as "Failed (warnings only)" with a warning icon."""

    def __init__(self, column_section_renderer: Any = None, run_info_at_end: bool = False,
                 data_context: Any = None) -> None:
        super().__init__(
            column_section_renderer=column_section_renderer or {
                "class_name": "ValidationResultsColumnSectionRenderer",
                "table_renderer": {"module_name": __name__,
                                   "class_name": "SeverityValidationResultsTableContentBlockRenderer"},
            },
            run_info_at_end=run_info_at_end,
            data_context=data_context,
        )

    def render(self, validation_results: Any, suite_parameters: Any = None) -> Any:
        document = super().render(validation_results, suite_parameters)
        if document.sections:
            document.sections[0].content_blocks.insert(0, _gate_banner(validation_results.meta.get(GATE_META)))
        return document

    @classmethod
    def _render_validation_header(cls, validation_results: Any) -> Any:
        block = super()._render_validation_header(validation_results)
        failed = [r for r in validation_results.results if not r.success]
        if failed and all(severity_of(r.expectation_config) != "critical" for r in failed):
            params = block.subheader.string_template.get("params", {})
            look = _look("warning")
            params["success"] = "Failed (warnings only)"
            params["html_success_icon"] = f'<i class="fas {" ".join(look["icon"])}" aria-hidden="true"></i>'
        return block


class SeverityExpectationSuiteBulletListContentBlockRenderer(ExpectationSuiteBulletListContentBlockRenderer):
    """GX's list of a suite's expectations, each preceded by its severity."""

    @classmethod
    def _get_content_block_fn(cls, expectation_type: str, expectation_config: Any = None) -> Any:
        item_fn = super()._get_content_block_fn(expectation_type, expectation_config)
        if item_fn is None:
            return None

        def items(*args: Any, **kwargs: Any) -> Any:
            out = item_fn(*args, **kwargs)
            first = out[0] if isinstance(out, list) and out else None
            template = getattr(first, "string_template", None)
            if not isinstance(template, dict) or "template" not in template:
                return out
            severity = severity_of(kwargs.get("configuration"))
            template["template"] = "$shinrai_severity " + template["template"]
            template.setdefault("params", {})["shinrai_severity"] = severity
            template.setdefault("styling", {}).setdefault("params", {})["shinrai_severity"] = {
                "classes": ["badge", _look(severity)["badge"], f"shinrai-severity-{severity}"]}
            return out

        return items


class SeverityExpectationSuitePageRenderer(ExpectationSuitePageRenderer):
    """GX's expectation suite page with each rule's severity."""

    def __init__(self, column_section_renderer: Any = None) -> None:
        super().__init__(column_section_renderer=column_section_renderer or {
            "class_name": "ExpectationSuiteColumnSectionRenderer",
            "bullet_list_renderer": {"module_name": __name__,
                                     "class_name": "SeverityExpectationSuiteBulletListContentBlockRenderer"},
        })


class SeveritySiteIndexBuilder(DefaultSiteIndexBuilder):
    """GX's index builder; each validation link also carries its run's gate decision (read from
    one stored result per run)."""

    # (GX passes a builder only the arguments its __init__ names: no *args/**kwargs here)
    def __init__(  # noqa: PLR0913 - GX's signature
        self, name: Any, site_name: Any, data_context: Any, target_store: Any, site_section_builders_config: Any,
        custom_styles_directory: Any = None, custom_views_directory: Any = None, show_how_to_buttons: bool = True,
        validation_results_limit: Any = None, renderer: Any = None, view: Any = None, data_context_id: Any = None,
        source_stores: Any = None,
    ) -> None:
        super().__init__(
            name, site_name, data_context, target_store, site_section_builders_config,
            custom_styles_directory=custom_styles_directory, custom_views_directory=custom_views_directory,
            show_how_to_buttons=show_how_to_buttons, validation_results_limit=validation_results_limit,
            renderer=renderer or {"module_name": __name__, "class_name": "SeveritySiteIndexPageRenderer"},
            view=view, data_context_id=data_context_id, source_stores=source_stores,
        )
        self._gates: dict[tuple, dict | None] = {}

    def add_resource_info_to_index_links_dict(self, index_links_dict: Any, expectation_suite_name: Any,
                                              section_name: Any, batch_identifier: Any = None,
                                              run_id: Any = None, **kwargs: Any) -> Any:
        out = super().add_resource_info_to_index_links_dict(
            index_links_dict, expectation_suite_name, section_name, batch_identifier=batch_identifier,
            run_id=run_id, **kwargs)
        if section_name == "validations" and run_id is not None:
            out["validations_links"][-1]["gate"] = self._gate(run_id, expectation_suite_name, batch_identifier)
        return out

    def _gate(self, run_id: Any, suite: str, batch_identifier: Any) -> dict | None:
        key = run_id.to_tuple()
        if key not in self._gates:
            result = self.data_context.get_validation_result(
                batch_identifier=batch_identifier, expectation_suite_name=suite, run_id=run_id,
                validation_results_store_name=self.source_stores.get("validations"),
            )
            found = isinstance(result, ExpectationSuiteValidationResult)  # GX returns {} for a missing key
            self._gates[key] = result.meta.get(GATE_META) if found else None
        return self._gates[key]


def _row_severity(link: dict[str, Any]) -> str | None:
    """critical / warning for a failed suite of a run with a recorded decision, else None."""
    gate = link.get("gate")
    if link.get("validation_success") or not gate:
        return None
    prefix = f"{link.get('expectation_suite_name')}."
    return "critical" if any(r.startswith(prefix) for r in gate.get("critical_failures") or []) else "warning"


class SeveritySiteIndexPageRenderer(SiteIndexPageRenderer):
    """GX's index page with the latest run's decision on top, a Publication column, and a failed
    suite's icon in the colour of its worst failed rule."""

    @classmethod
    def _generate_validation_results_link_table(cls, index_links_dict: Any) -> Any:
        table = super()._generate_validation_results_link_table(index_links_dict)
        table.table_columns.insert(1, {"field": "publication", "title": "Publication", "sortable": "true",
                                       "filterControl": "select"})
        for link, row in zip(index_links_dict.get("validations_links", []), table.table_data, strict=True):
            row["publication"] = gate_text(link.get("gate")).label
            severity = _row_severity(link)
            if severity is not None and severity != "critical":
                look = _look(severity)
                row["validation_success"] = _icon(look["icon"], f"failed ({severity}s only)")
                row["_validation_success_text"] = f"Failed ({severity}s only)"
        return table

    @classmethod
    def render(cls, index_links_dict: Any) -> Any:
        links = list(index_links_dict.get("validations_links", []))
        document = super().render(index_links_dict)
        latest = max(links, key=lambda link: cls._get_timestamp(link.get("run_time")) or 0, default=None)
        if latest is not None and document is not None and document.sections:
            prefix = f"Latest run {latest.get('run_name')}: "
            document.sections[0].content_blocks.insert(1, _gate_banner(latest.get("gate"), prefix))
        return document


class OfflineSiteBuilder(SiteBuilder):
    """GX's site builder, followed by :func:`make_offline` on the pages this build wrote."""

    def build(self, resource_identifiers: Any = None, build_index: bool = True) -> Any:
        started = time.time() - 1  # file mtimes may be coarser than time.time()
        result = super().build(resource_identifiers=resource_identifiers, build_index=build_index)
        root = site_root(self)
        if root is not None and root.exists():
            make_offline(root, since=None if resource_identifiers is None else started)
        return result


class BatchedUpdateDataDocsAction(UpdateDataDocsAction):
    """GX's ``UpdateDataDocsAction``, building the site once per checkpoint run.

    GX's action rebuilds the site (pages and index, with fresh Jinja environments) once per
    validation result; with a dozen datasets per checkpoint that is most of a run's time. This
    one renders every result of the run in one build and returns the same per-result page urls.
    """

    type: Literal["shinrai_update_data_docs"] = "shinrai_update_data_docs"

    def run(self, checkpoint_result: CheckpointResult, action_context: ActionContext | None = None) -> dict:
        identifiers: list[Any] = []
        for result_identifier, result in checkpoint_result.run_results.items():
            identifiers += [result_identifier, ExpectationSuiteIdentifier(name=result.suite_name)]
        if not identifiers:
            return {}
        self._record_gate(checkpoint_result)
        self._build_data_docs(site_names=self.site_names, resource_identifiers=identifiers)
        pages: dict[Any, dict[str, str]] = {}
        for result_identifier in checkpoint_result.run_results:
            urls = self._get_docs_sites_urls(resource_identifier=result_identifier, site_names=self.site_names)
            pages[result_identifier] = {site["site_name"]: site["site_url"] for site in urls}
        return pages

    def _record_gate(self, checkpoint_result: CheckpointResult) -> None:
        """Stamp the gate's decision for this run into each of its stored validation results, so
        the pages of the run (and every later rebuild of the site) state it."""
        from shinrai.quality.gx import gate_decision

        gate = gate_decision(checkpoint_result.checkpoint_config.name, checkpoint_result.run_results)
        store = self._resolve_context().context.validation_results_store
        for result_identifier, result in checkpoint_result.run_results.items():
            result.meta[GATE_META] = gate
            store.set(result_identifier, result)
