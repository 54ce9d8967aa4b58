"""Data Docs that work offline and stay private.

GX's pages load Bootstrap, jQuery, Font Awesome, Vega and more from CDNs (unstyled without internet)
and a remote logo whose URL carries the run time: every view of a private site would tell another host
about it. After GX writes pages, each CDN reference is pointed at a copy vendored from the npm registry
(reporting/docs_assets/vendor, see tools/vendor_docs_assets.sh), the logo at GX's own copy in the
site, and any other external resource is dropped, so opening a page requests nothing from another host.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from state.files import CorruptStateFile, quarantine, read_json, write_json
from warehouse.connection import first_line
from warehouse.exports import GCS_SCHEME, gcs_client

if TYPE_CHECKING:
    from warehouse.settings import Settings

log = logging.getLogger(__name__)

VENDOR = Path(__file__).resolve().parent / "docs_assets" / "vendor"
SITE_VENDOR = Path("static") / "vendor"
SITE_LOGO = Path("static") / "images" / "logo-long.png"  # GX copies its images into every site
SITE_FOLDER = Path("uncommitted") / "data_docs" / "local_site"  # under the GX root (gx/great_expectations.yml)
VALIDATIONS_FOLDER = Path("uncommitted") / "validations"  # GX's stored validation results, as in that file

_TABLE = "https://unpkg.com/bootstrap-table@1.19.1/dist"
_TABLE_1_19_0 = "https://unpkg.com/bootstrap-table@1.19.0/dist"  # page.j2 asks 1.19.0 for one stylesheet
_FILTER_CONTROL = "extensions/filter-control/bootstrap-table-filter-control"
# Every resource URL in GX 1.24.1's templates, and the vendored file that replaces it.
CDN_FILES: dict[str, str] = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap/dist/css/bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap/dist/js/bootstrap.min.js",
    f"{_TABLE}/bootstrap-table.min.css": "bootstrap-table/dist/bootstrap-table.min.css",
    f"{_TABLE}/bootstrap-table.min.js": "bootstrap-table/dist/bootstrap-table.min.js",
    f"{_TABLE}/{_FILTER_CONTROL}.min.js": f"bootstrap-table/dist/{_FILTER_CONTROL}.min.js",
    f"{_TABLE_1_19_0}/{_FILTER_CONTROL}.css": f"bootstrap-table/dist/{_FILTER_CONTROL}.min.css",
    f"{_TABLE_1_19_0}/{_FILTER_CONTROL}.min.css": f"bootstrap-table/dist/{_FILTER_CONTROL}.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css": (
        "bootstrap-datepicker/dist/css/bootstrap-datepicker.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js": (
        "bootstrap-datepicker/dist/js/bootstrap-datepicker.min.js"
    ),
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css": (
        "bootstrap-dark/dist/css/bootstrap-prefers-dark.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": "fontawesome/css/all.min.css",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/dist/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "popper/dist/umd/popper.min.js",
    "https://cdn.jsdelivr.net/npm/vega@5": "vega/build/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite/build/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed/build/vega-embed.min.js",
}
REMOTE_LOGO_PREFIX = "https://great-expectations-web-assets.s3."

_RESOURCE_TAG = re.compile(r"<(?:script|link|img)\b[^>]*>", re.IGNORECASE)
_REMOTE_URL = re.compile(r'\b(src|href)\s*=\s*"(https?:)?//[^"]*"', re.IGNORECASE)
_CROSS_ORIGIN_ATTRIBUTES = re.compile(r'\s(?:integrity|crossorigin)(?:\s*=\s*"[^"]*")?', re.IGNORECASE)
_REMOVED = "<!-- remote resource removed by nba-dq -->"
# A CSS url() fetching from another host (GX's stylesheet puts its dark-mode logo on S3); not data: URIs.
_REMOTE_CSS_URL = re.compile(r"""url\(\s*['"]?((?:https?:)?//[^'")\s]*)['"]?\s*\)""", re.IGNORECASE)


PUBLISHED = ".published.json"  # beside the site: what was last uploaded to the bucket, by size and time

TEMPORARY_SUFFIX = ".tmp"  # a page being rewritten (never published)


def site_folder(gx_root: Path) -> Path:
    return gx_root / SITE_FOLDER


def site_index(settings: Settings) -> str:
    """Where readers open the site: the bucket's index when one is configured, else the local file."""
    if settings.data_docs.bucket:
        return f"{settings.data_docs.bucket.rstrip('/')}/index.html"
    return str(site_folder(settings.gx_root) / "index.html")


def docs_url(settings: Settings, page: Path) -> str:
    """The URL of a local page as recorded (history rows, the site index): under base_url when set, else file://."""
    if not settings.data_docs.base_url:
        return page.resolve().as_uri()
    relative = page.resolve().relative_to(site_folder(settings.gx_root).resolve()).as_posix()
    return f"{settings.data_docs.base_url.rstrip('/')}/{relative}"


def page_address(settings: Settings, page: Path) -> str:
    """Where a reader opens a page: its web address under base_url, else its local path (to copy: chat
    clients open no file:// link)."""
    return docs_url(settings, page) if settings.data_docs.base_url else str(page.resolve())


def set_aside_unreadable_results(gx_root: Path) -> list[Path]:
    """Quarantine every stored validation result GX could not load (cut short by a full disk: GX writes
    them in place), so the site builds from the others; returns where they went. A rebuild loads every
    result, and one bad file used to stop it with a JSONDecodeError that named no file."""
    from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResultSchema

    schema = ExpectationSuiteValidationResultSchema()
    moved = []
    for path in sorted((gx_root / VALIDATIONS_FOLDER).rglob("*.json")):
        try:
            schema.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:  # removed meanwhile
            continue
        except Exception as error:  # not JSON, not UTF-8, or not a validation result GX can load
            reason = f"not a loadable validation result: {type(error).__name__}: {first_line(error)}"
            target = quarantine(path, gx_root, reason)
            if target is not None:
                moved.append(target)
    return moved


def publish(site: Path, bucket_url: str, gx_root: Path, pages: Iterable[Path], removed: Iterable[Path] = ()) -> int:
    """Upload the given pages, and the site's static assets and suite pages, when new or changed, to
    gs://bucket/prefix, and delete the removed (pruned) pages there; returns how many were uploaded.

    Never the whole site: a command publishes what it wrote. The bucket stays private (no ACL is set):
    readers sign in, e.g. through storage.cloud.google.com. A corrupt manifest is quarantined (and every
    file uploaded again) rather than stopping each publish.
    """
    from google.api_core.exceptions import NotFound

    bucket_name, prefix = _bucket_and_prefix(bucket_url)
    manifest_path = site.parent / PUBLISHED
    published: dict[str, list[int]] = read_json(manifest_path, gx_root, _check_manifest) or {}
    bucket = gcs_client().bucket(bucket_name)

    def blob(relative: str) -> Any:
        return bucket.blob(f"{prefix}{relative}")

    for path in removed:
        relative = path.relative_to(site).as_posix()
        if published.pop(relative, None) is not None:
            try:
                blob(relative).delete()
            except NotFound:  # deleted by a concurrent publish
                pass
    shared = [p for folder in ("static", "expectations") for p in (site / folder).rglob("*") if p.is_file()]
    uploaded = 0
    for path in sorted({*pages, *shared}):
        if path.suffix == TEMPORARY_SUFFIX:
            continue
        relative = path.relative_to(site).as_posix()
        try:
            stat = path.stat()
        except FileNotFoundError:  # replaced by a concurrent run meanwhile: that run publishes it
            continue
        signature = [stat.st_size, stat.st_mtime_ns]
        if published.get(relative) == signature:
            continue
        blob(relative).upload_from_filename(str(path), content_type=_content_type(path))
        published[relative] = signature
        uploaded += 1
    write_json(manifest_path, published)
    return uploaded


def published_pages(bucket_url: str, starting: str) -> set[str]:
    """The site's pages in the bucket whose path (relative to the site) starts with `starting`, in one
    listing: on Cloud Run the local site holds only this container's pages, the bucket every run's."""
    bucket_name, prefix = _bucket_and_prefix(bucket_url)
    return {blob.name[len(prefix) :] for blob in gcs_client().list_blobs(bucket_name, prefix=prefix + starting)}


def _bucket_and_prefix(bucket_url: str) -> tuple[str, str]:
    """gs://bucket/site -> ("bucket", "site/"); gs://bucket -> ("bucket", "")."""
    bucket_name, _, prefix = bucket_url[len(GCS_SCHEME) :].partition("/")
    return bucket_name, f"{prefix.strip('/')}/" if prefix.strip("/") else ""


def _check_manifest(document: Any) -> None:
    if not isinstance(document, dict) or not all(isinstance(v, list) and len(v) == 2 for v in document.values()):
        raise CorruptStateFile("not a map of published files to [size, mtime]")


def _content_type(path: Path) -> str:
    types = {".html": "text/html", ".css": "text/css", ".js": "application/javascript", ".json": "application/json",
             ".svg": "image/svg+xml", ".png": "image/png", ".woff2": "font/woff2", ".ico": "image/x-icon"}  # fmt: skip
    return types.get(path.suffix, "application/octet-stream")


def make_offline(site: Path, pages: Iterable[Path]) -> int:
    """Rewrite the given pages, and the site's stylesheets, to load nothing remote; never the whole site
    (a run touches its own pages only). Returns how many files were rewritten. The vendored assets are
    copied into the site first."""
    if not site.is_dir():
        return 0
    _copy_vendor(site / SITE_VENDOR)
    styles = [p for p in (site / "static").rglob("*.css") if SITE_VENDOR not in p.relative_to(site).parents]
    rewritten = 0
    for page in [*pages, *styles]:
        try:
            text = page.read_text(encoding="utf-8")
        except FileNotFoundError:  # a concurrent run's GX replaced the page meanwhile: that run rewrites it
            continue
        offline = offline_html(text, page.parent, site)
        if offline != text:
            write_atomically(page, offline)
            rewritten += 1
    return rewritten


def write_atomically(page: Path, text: str) -> None:
    """Readers (a browser, a concurrent run) see the old page or the new one, never half of one."""
    temporary = page.with_name(f".{page.name}.{os.getpid()}{TEMPORARY_SUFFIX}")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, page)
    except BaseException:  # a full disk: leave nothing half-written behind
        temporary.unlink(missing_ok=True)
        raise


def offline_html(html: str, folder: Path, site: Path) -> str:
    """A page (or stylesheet) with every remote resource replaced by the site's own copy, or removed."""

    def local(relative: Path) -> str:
        return Path(os.path.relpath(site / relative, folder)).as_posix()

    def replace(match: re.Match[str]) -> str:
        tag = match.group(0)
        remote = _REMOTE_URL.search(tag)
        if remote is None:
            return tag
        attribute, url = remote.group(1), remote.group(0).split('"', 2)[1]
        if url in CDN_FILES:
            target = local(SITE_VENDOR / CDN_FILES[url])
        elif url.startswith(REMOTE_LOGO_PREFIX):
            target = local(SITE_LOGO)
        else:
            log.warning("Data Docs: dropped a remote resource GX added: %s", url)
            return _REMOVED
        tag = tag[: remote.start()] + f'{attribute}="{target}"' + tag[remote.end() :]
        return _CROSS_ORIGIN_ATTRIBUTES.sub("", tag)  # file:// pages cannot pass CORS checks

    def replace_css(match: re.Match[str]) -> str:
        url = match.group(1)
        if url.startswith(REMOTE_LOGO_PREFIX):
            return f"url('{local(SITE_LOGO)}')"
        log.warning("Data Docs: dropped a remote CSS resource GX added: %s", url)
        return "none"

    html = _REMOTE_CSS_URL.sub(replace_css, _RESOURCE_TAG.sub(replace, html))
    # A dropped <script> tag leaves its closing tag behind.
    return re.sub(re.escape(_REMOVED) + r"\s*</script>", _REMOVED, html, flags=re.IGNORECASE)


def _copy_vendor(target: Path) -> None:
    for source in VENDOR.rglob("*"):
        if source.is_file():
            destination = target / source.relative_to(VENDOR)
            if not destination.is_file() or destination.stat().st_size != source.stat().st_size:
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, destination)
