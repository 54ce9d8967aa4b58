"""Data Docs published to a (fake) GCS bucket by two instances that share the history but no disk, as
Cloud Run containers do: the index a new container writes lists and links every instance's runs, and
the month pages the bucket holds are not written again."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Workspace, make_workspace
from tests.gcs_server import gcs_server
from warehouse.exports import gcs_client
from warehouse.settings import PROJECT_ROOT

pytestmark = pytest.mark.acceptance
BUCKET = "nba-dq-docs"
FIRST_DAY, SECOND_DAY = "2025-12-02", "2025-12-03"


def shared_history_config(folder: Path) -> Path:
    """dq.toml with the DuckDB history outside either GX folder (on BigQuery the history is shared anyway)."""
    text = (PROJECT_ROOT / "dq.toml").read_text()
    local = 'duckdb_file = "uncommitted/monitoring.duckdb"'
    assert local in text
    config = folder / "dq.toml"
    config.write_text(text.replace(local, f'duckdb_file = "{folder / "history.duckdb"}"'))
    return config


def published(name: str) -> str:
    return gcs_client().bucket(BUCKET).blob(f"site/{name}").download_as_text()


def published_names() -> set[str]:
    return {blob.name.removeprefix("site/") for blob in gcs_client().list_blobs(BUCKET, prefix="site/")}


def an_older_month_of_runs(history: Path) -> str:
    """Copy the history's runs two months back (new run ids): an archive month no container has written."""
    import duckdb

    with duckdb.connect(str(history)) as connection:
        table = "nba_monitoring.dq_check_results"
        columns = [row[0] for row in connection.execute(f"SELECT * FROM {table} LIMIT 0").description]
        moved = {"run_id": "'old-' || run_id", "run_at": "run_at - INTERVAL 61 DAY"}
        connection.execute(f"INSERT INTO {table} SELECT {', '.join(moved.get(c, c) for c in columns)} FROM {table}")
        (month,) = connection.execute(f"SELECT strftime(MIN(run_at), '%Y-%m') FROM {table}").fetchone()
    return f"runs-{month}.html"


def test_a_new_containers_index_links_the_pages_other_instances_published(scratch: Workspace, tmp_path: Path) -> None:
    with gcs_server(BUCKET) as gcs:
        config = shared_history_config(tmp_path)
        env = {"NBA_DQ_CONFIG": str(config), "NBA_DQ_DOCS_BUCKET": f"gs://{BUCKET}/site", **gcs.env}
        first = scratch.cli("run", "--phase", "5", "--date", FIRST_DAY, "--json", env=env)
        assert first.code == 0, first.err
        first_page = Path(first.json()["data_docs"]).relative_to(scratch.root / "gx/uncommitted/data_docs/local_site")
        older = an_older_month_of_runs(tmp_path / "history.duckdb")

        second = make_workspace(tmp_path / "second-container", scratch.warehouse)  # an empty GX folder
        assert second.cli("run", "--phase", "5", "--date", SECOND_DAY, env=env).code == 0
        index = published("index.html")
        assert f"phase5-{FIRST_DAY}" in index and f"phase5-{SECOND_DAY}" in index
        assert first_page.as_posix() in index  # the first container's page, which the second never had
        assert "none (not written)" not in index
        assert first_page.as_posix() in published_names()
        assert not (second.root / "gx/uncommitted/data_docs/local_site" / first_page).exists()
        older_generation = gcs_client().bucket(BUCKET).get_blob(f"site/{older}").generation  # the second wrote it

        third = make_workspace(tmp_path / "third-container", scratch.warehouse)
        assert third.cli("run", "--phase", "5", "--date", SECOND_DAY, env=env).code == 0
        # The bucket holds the older month's page: the third container's empty site does not rewrite it.
        assert gcs_client().bucket(BUCKET).get_blob(f"site/{older}").generation == older_generation
        assert not (third.root / "gx/uncommitted/data_docs/local_site" / older).exists()


def test_the_health_chart_the_landing_page_links_is_published_with_it(scratch: Workspace, tmp_path: Path) -> None:
    """A link on the bucket's landing page to a chart only this container's disk held would be broken."""
    with gcs_server(BUCKET) as gcs:
        env = {"NBA_DQ_CONFIG": str(shared_history_config(tmp_path)), "NBA_DQ_DOCS_BUCKET": f"gs://{BUCKET}/site",
               **gcs.env}  # fmt: skip
        health = scratch.cli("health", "--end", FIRST_DAY, "--days", "2", "--now", f"{FIRST_DAY}T18:00:00Z", "--json")
        chart = Path(health.json()["chart"])
        assert scratch.cli("run", "--phase", "5", "--date", FIRST_DAY, env=env).code == 0
        assert f'href="health/{chart.name}"' in published("index.html")
        assert f"health/{chart.name}" in published_names()
