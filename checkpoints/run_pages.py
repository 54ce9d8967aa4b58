"""A run's own Data Docs pages, rendered by GX without reading any other stored result.

GX's UpdateDataDocsAction calls build_data_docs once per validation result: each call lists every
stored result and page (the section builder and the index builder both do) and re-renders the index
from all of them, so a run's cost grew with every run before it. RunPagesAction renders exactly the
pages of the run's results and suites with the site's own GX renderers and views (the escaping ones of
reporting/data_docs_view.py), makes them offline-safe, and leaves the index to reporting/site_index.py,
built once per command from the history.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any, Literal

from great_expectations.checkpoint import UpdateDataDocsAction

from reporting.data_docs import make_offline

log = logging.getLogger(__name__)
STATIC_STAMP = Path("static") / ".nba-dq-gx-version"  # which GX version's static assets the site holds


class RunPagesAction(UpdateDataDocsAction):
    """Writes the validation page of each result of the checkpoint (and its suite's page), nothing else.

    A subclass of UpdateDataDocsAction so GX runs it before the other actions and hands its pages on
    (the report action links them)."""

    type: Literal["nba_dq_run_pages"] = "nba_dq_run_pages"  # type: ignore[assignment]

    def run(self, checkpoint_result: Any, action_context: Any = None) -> dict[Any, dict[str, str]]:
        context = self._resolve_context().context
        results = list(checkpoint_result.run_results.items())
        return write_validation_pages(context, results)


def write_validation_pages(context: Any, results: Iterable[tuple[Any, Any]]) -> dict[Any, dict[str, str]]:
    """Render each (identifier, validation result) into every site; returns identifier -> site -> page URL."""
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        SiteSectionIdentifier,
    )

    results = list(results)
    pages: dict[Any, dict[str, str]] = {identifier: {} for identifier, _ in results}
    for site_name, site_config in (context.variables.data_docs_sites or {}).items():
        builder = context._init_site_builder_for_data_docs_site_creation(site_name=site_name, site_config=site_config)
        site = Path(builder.get_resource_url(only_if_exists=False).removeprefix("file://")).parent
        _ensure_static(builder, site)
        validations = builder.site_section_builders["validations"]
        written = []
        with redirect_stdout(io.StringIO()):  # GX prints notices while it renders expectations
            for identifier, result in results:
                _render(validations, SiteSectionIdentifier("validations", identifier), result)
                written.append(_page(builder, identifier))
            expectations = builder.site_section_builders.get("expectations")
            if expectations is not None:
                for name, suite in _suites_of(results).items():
                    _render(
                        expectations, SiteSectionIdentifier("expectations", ExpectationSuiteIdentifier(name)), suite
                    )
                    written.append(_page(builder, ExpectationSuiteIdentifier(name)))
        make_offline(site, [page for page in written if page is not None])
        for identifier, _ in results:
            url = builder.get_resource_url(resource_identifier=identifier)
            if url:
                pages[identifier][site_name] = url
    return pages


def _suites_of(results: list[tuple[Any, Any]]) -> dict[str, Any]:
    """Each suite as its latest result ran it. Every validation page links its suite's page; read from
    the context's in-memory store, `nba-dq docs` (whose context declares no suite) wrote none and a
    rebuilt site's links led nowhere."""
    from great_expectations.core import ExpectationSuite

    latest: dict[str, tuple[Any, Any]] = {}
    for identifier, result in results:
        known = latest.get(result.suite_name)
        if known is None or identifier.run_id.run_time >= known[0].run_id.run_time:
            latest[result.suite_name] = (identifier, result)
    return {
        name: ExpectationSuite(name=name, expectations=[outcome.expectation_config for outcome in result.results])
        for name, (_, result) in sorted(latest.items())
    }


def _render(section: Any, key: Any, result: Any) -> None:
    """What GX's section builder does for one resource, without listing every key of its store first."""
    rendered = section.renderer_class.render(result)
    html = section.view_class.render(
        rendered, data_context_id=section.data_context_id, show_how_to_buttons=section.show_how_to_buttons
    )
    section.target_store.set(key, html)


def _page(builder: Any, identifier: Any) -> Path | None:
    url = builder.get_resource_url(resource_identifier=identifier)
    return Path(url.removeprefix("file://")) if url else None


def _ensure_static(builder: Any, site: Path) -> None:
    """GX's static assets (4 MB, which GX copies on every build), once per GX version."""
    import great_expectations

    stamp = site / STATIC_STAMP
    if stamp.is_file() and stamp.read_text(encoding="utf-8") == great_expectations.__version__:
        return
    builder.target_store.copy_static_assets()
    make_offline(site, [])  # GX's stylesheets load its dark-mode logo from S3
    stamp.write_text(great_expectations.__version__, encoding="utf-8")
