"""Unit tests of the offline rewrite and of publishing the site to a (stand-in) GCS bucket."""

from __future__ import annotations

from pathlib import Path

import pytest

from reporting import data_docs
from reporting.data_docs import CDN_FILES, make_offline, offline_html, publish
from state.files import quarantined

SITE = Path("/site")


def test_cdn_tags_point_at_the_vendored_copy_without_cross_origin_attributes() -> None:
    url = "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js"
    tag = f'<script src="{url}" integrity="sha384-abc" crossorigin="anonymous"></script>'
    page = offline_html(tag, SITE / "validations" / "phase5", SITE)
    assert page == '<script src="../../static/vendor/popper/dist/umd/popper.min.js"></script>'


def test_the_remote_logo_and_unknown_resources_never_load() -> None:
    html = (
        '<img src="https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png?d=1&dataContextId=x">'
        '<script src="https://evil.example/track.js"></script>'
        '<link rel="stylesheet" href="//cdn.example/x.css">'
        "<style>.a { background: url('https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/x.png') }"
        " .b { background: url(https://tracker.example/p.gif) }"
        " .c { background: url(\"data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg'/>\") }</style>"
        '<a href="https://greatexpectations.io">a link is not a request</a>'
    )
    page = offline_html(html, SITE, SITE)
    assert '<img src="static/images/logo-long.png">' in page
    assert "evil.example" not in page and "cdn.example" not in page and "tracker.example" not in page
    assert ".a { background: url('static/images/logo-long.png') }" in page and ".b { background: none }" in page
    assert "data:image/svg+xml" in page and 'href="https://greatexpectations.io"' in page


def test_make_offline_rewrites_pages_and_stylesheets_and_copies_the_vendor(tmp_path: Path) -> None:
    (tmp_path / "static/styles").mkdir(parents=True)
    (tmp_path / "static/styles/gx.css").write_text(
        "x { background: url('https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/full_logo_dark.png') }"
    )
    (tmp_path / "index.html").write_text(f'<link href="{next(iter(CDN_FILES))}"/>')
    assert make_offline(tmp_path, [tmp_path / "index.html"]) == 2
    assert "amazonaws" not in (tmp_path / "static/styles/gx.css").read_text()
    assert "../images/logo-long.png" in (tmp_path / "static/styles/gx.css").read_text()
    assert (tmp_path / "static/vendor/bootstrap/dist/css/bootstrap.min.css").is_file()
    assert make_offline(tmp_path, [tmp_path / "index.html"]) == 0  # nothing left to rewrite


def test_make_offline_touches_only_the_pages_it_is_given(tmp_path: Path) -> None:
    """A run rewrites its own pages, never every page of the site (its cost grew with the history)."""
    cdn = f'<link href="{next(iter(CDN_FILES))}"/>'
    (tmp_path / "mine.html").write_text(cdn)
    (tmp_path / "older.html").write_text(cdn)
    assert make_offline(tmp_path, [tmp_path / "mine.html"]) == 1
    assert "vendor/" in (tmp_path / "mine.html").read_text()
    assert (tmp_path / "older.html").read_text() == cdn


def test_a_page_another_run_replaced_meanwhile_is_skipped_and_writes_are_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cdn = f'<link href="{next(iter(CDN_FILES))}"/>'
    (tmp_path / "gone.html").write_text(cdn)
    (tmp_path / "kept.html").write_text(cdn)
    read_text = Path.read_text

    def vanishing(self: Path, *args: object, **kwargs: object) -> str:
        if self.name == "gone.html":  # listed, then replaced by a concurrent run's GX before it is read
            raise FileNotFoundError(self)
        return read_text(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", vanishing)
    assert make_offline(tmp_path, [tmp_path / "gone.html", tmp_path / "kept.html"]) == 1
    monkeypatch.undo()
    assert "vendor/" in (tmp_path / "kept.html").read_text()
    assert not list(tmp_path.glob(".*.tmp"))


class FakeBlob:
    def __init__(self, bucket: FakeBucket, name: str) -> None:
        self.bucket, self.name = bucket, name

    def upload_from_filename(self, filename: str, content_type: str) -> None:
        self.bucket.uploads.append((self.name, content_type))


class FakeBucket:
    """Stands in for google.cloud.storage's Bucket (unit test; there is no GCS emulator here)."""

    def __init__(self) -> None:
        self.uploads: list[tuple[str, str]] = []

    def bucket(self, name: str) -> FakeBucket:
        assert name == "nba-dq-docs"
        return self

    def blob(self, name: str) -> FakeBlob:
        return FakeBlob(self, name)


def test_publish_uploads_new_and_changed_files_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bucket = FakeBucket()
    monkeypatch.setattr(data_docs, "gcs_client", lambda: bucket)
    site = tmp_path / "local_site"
    (site / "validations").mkdir(parents=True)
    (site / "index.html").write_text("<html>index</html>")
    (site / "validations/run.html").write_text("<html>run</html>")
    pages = [site / "index.html", site / "validations/run.html"]
    assert publish(site, "gs://nba-dq-docs/site", tmp_path, pages) == 2
    assert sorted(bucket.uploads) == [("site/index.html", "text/html"), ("site/validations/run.html", "text/html")]
    (site / "index.html").write_text("<html>index, rebuilt</html>")
    assert publish(site, "gs://nba-dq-docs/site", tmp_path, pages) == 1
    assert bucket.uploads[-1] == ("site/index.html", "text/html")


def test_a_corrupt_publish_manifest_is_quarantined_and_everything_uploaded_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = FakeBucket()
    monkeypatch.setattr(data_docs, "gcs_client", lambda: bucket)
    site = tmp_path / "local_site"
    site.mkdir()
    (site / "index.html").write_text("<html>index</html>")
    (tmp_path / ".published.json").write_text('{"index.html": [18, ')  # cut short by a full disk
    assert publish(site, "gs://nba-dq-docs/site", tmp_path, [site / "index.html"]) == 1
    [(moved, reason)] = quarantined(tmp_path)
    assert moved.name.endswith(".published.json") and "JSONDecodeError" in reason
    assert publish(site, "gs://nba-dq-docs/site", tmp_path, [site / "index.html"]) == 0  # the new manifest is whole
