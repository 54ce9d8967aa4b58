"""Data Docs page views that show values from the data as text.

GX 1.24.1 escapes string-template parameters but emits a plain string content block as raw HTML:
a player_lookup like `<img src=x onerror=alert(1)>` in a table of unexpected values would run as
markup. These views escape every plain string, and are configured for every site section and the
index in gx/great_expectations.yml. GX's own markup arrives as templates and component dicts, not
as plain strings, so it still renders.

GX builds a Jinja environment per page view, so every page recompiled the same ~200 templates (about
1 s per checkpoint run); the views share one in-memory bytecode cache instead.

Three of GX's templates are replaced by the site's own (reporting/docs_templates): the footer (a
newsletter form with tracking parameters), the sidebar's link to GX's site (a private site links no
other host) and the favicon (GX's path is one folder short on validation pages: a broken link).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from great_expectations.render.view import DefaultJinjaIndexPageView, DefaultJinjaPageView
from jinja2 import ChoiceLoader, FileSystemLoader, pass_context
from jinja2.bccache import Bucket, BytecodeCache


def _escaped(content_block: Any) -> Any:
    if isinstance(content_block, str):
        return html.escape(content_block, quote=False)
    if isinstance(content_block, list):
        return [_escaped(item) if isinstance(item, (str, list)) else item for item in content_block]
    return content_block


class _MemoryBytecodeCache(BytecodeCache):
    """Compiled templates for the process, keyed by Jinja (template name and source checksum)."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self._code:
            bucket.bytecode_from_string(self._code[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


_COMPILED = _MemoryBytecodeCache()
TEMPLATES = Path(__file__).resolve().parent / "docs_templates"  # searched before GX's own templates


class _EscapingContentBlocks:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.env.bytecode_cache = _COMPILED  # type: ignore[attr-defined]
        self.env.loader = ChoiceLoader([FileSystemLoader(TEMPLATES), self.env.loader])  # type: ignore[attr-defined]

    @pass_context  # a Jinja filter that receives the template context, like the method it overrides
    def render_content_block(
        self,
        jinja_context: Any,
        content_block: Any,
        index: Any = None,
        content_block_id: Any = None,
        render_to_markdown: bool = False,
    ) -> Any:
        if not render_to_markdown:
            content_block = _escaped(content_block)
        return super().render_content_block(  # type: ignore[misc]
            jinja_context, content_block, index, content_block_id, render_to_markdown
        )


class EscapingPageView(_EscapingContentBlocks, DefaultJinjaPageView):
    """Validation and expectation-suite pages."""


class EscapingIndexPageView(_EscapingContentBlocks, DefaultJinjaIndexPageView):
    """The site's index."""
