"""dbt docs for analysts as one self-contained page that opens offline.

``dbt docs generate --static`` writes ``static_index.html``: the docs app with the manifest and
catalog inlined. Two things in it point outside the file and are neutralised here: dbt's
Snowplow tracker loader (a ``//d1fc8wv8zag5ca.cloudfront.net/.../sp.js`` script, only injected
when anonymous usage tracking is on, which shinrai turns off) and a favicon link left as an
uninterpolated ``${require(...)}`` template. The page uses no web fonts; its icon fonts are inlined.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from shinrai.publish.layout import PublishLayout, layout
from shinrai.settings import Paths, paths
from shinrai.transform import dbt

log = logging.getLogger(__name__)

_TRACKER = re.compile(r"""(["'])//[a-z0-9.-]*cloudfront\.net/[^"']*sp\.js\1""")
_FAVICON = re.compile(r"""href=(["'])\$\{require\([^)]*\)\}\1""")
# Elements and CSS that make the browser fetch something when the page loads.
_RESOURCE_REFS = (
    re.compile(r"""<script[^>]*\ssrc\s*=\s*["']?((?:https?:)?//[^"'\s>]+)""", re.I),
    re.compile(r"""<link[^>]*\shref\s*=\s*["']?((?:https?:)?//[^"'\s>]+)""", re.I),
    re.compile(r"""<(?:img|iframe|source|audio|video|embed)[^>]*\ssrc\s*=\s*["']?((?:https?:)?//[^"'\s>]+)""", re.I),
    re.compile(r"""@import\s+(?:url\()?\s*["']?((?:https?:)?//[^"')\s]+)""", re.I),
    re.compile(r"""url\(\s*["']?((?:https?:)?//[^"')\s]+)""", re.I),
    re.compile(r"""\.src\s*=\s*["']((?:https?:)?//[^"']+)""", re.I),
)


def external_references(html: str) -> list[str]:
    """URLs the page would load from the network (scripts, styles, fonts, images, CSS imports)."""
    found: list[str] = []
    for pattern in _RESOURCE_REFS:
        found += [m.group(1) for m in pattern.finditer(html)]
    return sorted(set(found))


def make_offline(html: str) -> str:
    html = _TRACKER.sub(r'\1\1', html)
    html = _FAVICON.sub('href="data:,"', html)
    return html


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def generate_docs(target: PublishLayout | None = None, p: Paths | None = None) -> Path:
    """Run ``dbt docs generate --static`` and publish the page as ``<publish>/docs/index.html``."""
    p = p or paths()
    target = target or layout()
    dbt.run_dbt(["docs", "generate", "--static"], p)
    source = Path(dbt.dbt_env(p)["DBT_TARGET_PATH"]) / "static_index.html"
    html = make_offline(source.read_text(encoding="utf-8"))
    remaining = external_references(html)
    if remaining:
        log.warning("dbt docs still reference the network: %s", ", ".join(remaining))
    out = target.docs_dir / "index.html"
    write_atomically(out, html)
    log.info("dbt docs published to %s", out)
    return out
