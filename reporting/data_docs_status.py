"""The status column of a validation page, for every check: GX draws a skipped check with a green check
and a failed warning with a critical failure's red cross. This table renderer, configured for the
validations section in gx/great_expectations.yml, draws every row's status as nba-dq decides it
(expectations/failing_rows_render.status_icon), for nba-dq's own expectation and GX's built-in ones
(Phase 6's frame checks) alike.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from great_expectations.render.renderer.content_block.validation_results_table_content_block import (
    ValidationResultsTableContentBlockRenderer,
)

from expectations import failing_rows_render


class SeverityAwareTableRenderer(ValidationResultsTableContentBlockRenderer):
    @classmethod
    def _get_content_block_fn(cls, expectation_type: str, expectation_config: Any = None) -> Callable[..., Any] | None:
        rows_of = super()._get_content_block_fn(expectation_type, expectation_config)
        if rows_of is None:
            return None

        def rows(*args: Any, **kwargs: Any) -> Any:
            found = rows_of(*args, **kwargs)
            icon = failing_rows_render.status_icon(kwargs.get("result"))
            if icon is not None and found and isinstance(found[0], list) and found[0]:
                found[0][0] = icon  # a row is [status, expectation, observed]
            return found

        return rows
