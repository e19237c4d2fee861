"""Great Expectations Data Docs that open offline.

GX renders pages that load bootstrap, jQuery, bootstrap-table, Font Awesome and vega
from public CDNs, and its logo from S3; offline they render unstyled, and the index's
table of validations (drawn by bootstrap-table) stays empty. After GX renders, every
new page is pointed at the same files shipped in expectations/data_docs_assets/
(copied to <site>/static/vendor/) and at GX's own local logo.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from orchestration.lib.settings import PROJECT_ROOT

ASSETS = PROJECT_ROOT / "expectations" / "data_docs_assets"
VENDOR = Path("static") / "vendor"
# The CDN addresses GX 1.24 writes -> the shipped file (expectations/data_docs_assets/README.md)
CDN_FILES = {
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery.min.js",
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "popper.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": "bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": "bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js": "bootstrap-table-filter-control.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css": "bootstrap-table-filter-control.min.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css": "bootstrap-table-filter-control.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css": "bootstrap-datepicker.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js": "bootstrap-datepicker.min.js",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css": "bootstrap-prefers-dark.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": "fontawesome/css/all.min.css",
    "https://cdn.jsdelivr.net/npm/vega@5": "vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed.min.js",
}
# GX's logo from S3 (with a cache-busting query): its own copy in static/images
S3_LOGO = re.compile(r"https://great-expectations-web-assets\.s3[^\"')\s]*\.png(?:\?[^\"')\s]*)?")
LOCAL_LOGO = Path("static") / "images" / "logo-long.png"
# Subresource integrity names the CDN's bytes; the shipped copy is served from here.
SRI = re.compile(r'\s+(?:integrity="[^"]*"|crossorigin="anonymous")')
LOADED_URL = re.compile(r"""(?:src|href)=["'](https?://[^"']+)["']|url\(['"]?(https?://[^'")]+)""")


def localise(site: Path, since: float = 0.0) -> int:
    """Point the pages of a Data Docs site written at or after `since` (a timestamp) at
    the shipped assets; returns how many pages changed. Pages keep working from disk
    (file://) and over http, as every path is relative."""
    target = site / VENDOR
    shutil.copytree(ASSETS, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.md"))
    changed = 0
    for page in site.rglob("*.html"):
        if page.stat().st_mtime < since:
            continue
        html = page.read_text(encoding="utf-8")
        up = Path(os.path.relpath(site, page.parent))
        new = html
        for url, name in CDN_FILES.items():
            new = new.replace(f'"{url}"', f'"{(up / VENDOR / name).as_posix()}"')
        new = S3_LOGO.sub((up / LOCAL_LOGO).as_posix(), new)
        new = SRI.sub("", new)
        if new != html:
            page.write_text(new, encoding="utf-8")
            changed += 1
    return changed


def remote_loads(html: str) -> list[str]:
    """URLs a page would load from the network (scripts, stylesheets, images, CSS url())."""
    found = []
    for tag in re.finditer(r"<(?:script|link|img)\b[^>]*>", html):
        if (
            re.search(r"<link\b", tag[0])
            and 'rel="stylesheet"' not in tag[0]
            and "stylesheet" not in tag[0]
        ):
            continue
        found += [m[0] or m[1] for m in LOADED_URL.finditer(tag[0])]
    for style in re.finditer(r"<style\b.*?</style>", html, re.S):
        found += [m[1] for m in LOADED_URL.finditer(style[0]) if m[1]]
    return found


def _index_builder_base():
    from great_expectations.render.renderer.site_builder import DefaultSiteIndexBuilder

    return DefaultSiteIndexBuilder


class KeepingSiteIndexBuilder(_index_builder_base()):
    """GX's index builder, without deleting pages whose suite is not in this context.

    The gate validates each feed in a context of its own (orders, survey answers, leads),
    holding only that feed's suites; the stock builder removes every other suite's page
    from the site on each build, and the index then links to pages that are gone.
    """

    def build(self, skip_and_clean_missing: bool = True, build_index: bool = True):
        return super().build(skip_and_clean_missing=False, build_index=build_index)
