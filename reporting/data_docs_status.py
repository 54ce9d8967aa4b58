"""The status column of a validation page, for every check: nba-dq's own expectation draws its status
icon itself (expectations/no_failing_rows.py), but GX's built-in expectations (Phase 6's frame checks)
drew a skipped check as a green check and a failed warning as a critical red cross. This table renderer,
configured for the validations section in gx/great_expectations.yml, gives every row the same icons.
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
            icon = status_icon(kwargs.get("result"))
            if icon is not None and found and isinstance(found[0], list) and found[0]:
                found[0][0] = icon  # a row is [status, expectation, observed]
            return found

        return rows


def status_icon(result: Any) -> Any:
    """The icon a check's status calls for where GX's differs; None where GX's own is right."""
    if failing_rows_render.is_skipped(result):
        return failing_rows_render.skipped_icon()
    if failing_rows_render.is_failed_warning(result):
        return failing_rows_render.warning_icon()
    return None
