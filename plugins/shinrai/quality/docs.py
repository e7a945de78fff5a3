"""Data Docs that render with no network.

GX's Data Docs templates load Bootstrap, jQuery, Popper, bootstrap-table, bootstrap-datepicker,
Font Awesome and Vega from public CDNs, and the GX logo from S3 (with a tracking query string).
:class:`OfflineSiteBuilder` is GX's ``SiteBuilder`` (configured as the site's ``class_name`` in
``great_expectations.yml``, so GX's ``UpdateDataDocsAction`` uses it) that, after each build,
copies the vendored files (``static/vendor/``, npm distribution files with their licences) into
the site and rewrites the pages it just wrote to point at them with relative paths.

:class:`BatchedUpdateDataDocsAction` is GX's ``UpdateDataDocsAction`` building once per checkpoint
run instead of once per validation result.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote, urlparse

from great_expectations.checkpoint.actions import UpdateDataDocsAction
from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier
from great_expectations.render.renderer.site_builder import SiteBuilder

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
        self._build_data_docs(site_names=self.site_names, resource_identifiers=identifiers)
        pages: dict[Any, dict[str, str]] = {}
        for result_identifier in checkpoint_result.run_results:
            urls = self._get_docs_sites_urls(resource_identifier=result_identifier, site_names=self.site_names)
            pages[result_identifier] = {site["site_name"]: site["site_url"] for site in urls}
        return pages
