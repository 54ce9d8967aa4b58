"""How Data Docs shows an ExpectNoFailingRows check: its failing rows as a table, not a line of text.

GX's default renderers show this expectation as its SQL-less type name and its observed value as one
text blob; a reviewer asking "what failed on date D" needs the rows with their columns, what was
expected, the check's own severity (its meta, from dq.toml; GX's `severity` field is not what nba-dq
decides by) and the "why" note. Every value from the data goes into a table cell or a template
parameter as a plain string: the site's escaping views (reporting/data_docs_view.py) and GX's template
escaping show it as text, never as markup.
"""

from __future__ import annotations

from typing import Any

from great_expectations.render import RenderedStringTemplateContent, RenderedTableContent

from expectations.declare import SKIPPED
from warehouse.catalog import FAILED_COLUMN

ROWS_SHOWN = 20  # a page stays readable; the rest is counted ("+N more"), never silently dropped


def prescriptive(configuration: Any) -> list[RenderedStringTemplateContent]:
    """The check's name, severity, expectation in words and why it exists."""
    meta = dict(getattr(configuration, "meta", None) or {})
    params = {
        "check": str(meta.get("check", "unnamed check")),
        "severity": str(meta.get("severity", "critical")),
        "expected": str(meta.get("expected", "no failing rows")),
    }
    template = "$check [$severity]: expected $expected"
    if meta.get(SKIPPED):  # declared unable to judge: say so where a reader looks for what was expected
        params["skipped"] = str(meta[SKIPPED])
        template = "$check [$severity]: skipped, not judged: $skipped"
    if meta.get("notes"):
        params["notes"] = str(meta["notes"])
        template += ". Why: $notes"
    return [_text(template, params)]


def status_icon(result: Any) -> RenderedStringTemplateContent | None:
    """A check's status icon where GX's is wrong for it, else None (GX's own is right): a failed warning
    is not a critical failure's red cross, and a skip judged nothing, so it gets no green check. Drawn for
    every expectation's row, GX's own included, by reporting/data_docs_status.py."""
    if is_skipped(result):
        return _icon(["fas", "fa-minus-circle", "text-secondary"], "skipped", "⏭️", label="skipped")
    if is_failed_warning(result):
        return _icon(["fas", "fa-exclamation-circle", "text-warning"], "warning", "⚠️")
    return None


def _icon(classes: list[str], title: str, markdown: str, label: str = "") -> RenderedStringTemplateContent:
    icon = {"tag": "i", "classes": classes, "attributes": {"title": title}}
    return RenderedStringTemplateContent(
        content_block_type="string_template",
        string_template={
            "template": "$icon $label" if label else "$icon",
            "params": {"icon": "", "markdown_status_icon": markdown, **({"label": label} if label else {})},
            "styling": {"params": {"icon": icon}},
        },
    )


def is_failed_warning(result: Any) -> bool:
    meta = getattr(getattr(result, "expectation_config", None), "meta", None) or {}
    return result is not None and not result.success and not _raised(result) and meta.get("severity") == "warning"


def is_skipped(result: Any) -> bool:
    """Declared unable to judge (SKIPPED), and it did not fail or raise: a failure is shown as one."""
    meta = getattr(getattr(result, "expectation_config", None), "meta", None) or {}
    return result is not None and bool(result.success) and not _raised(result) and bool(meta.get(SKIPPED))


def _raised(result: Any) -> bool:
    return bool((getattr(result, "exception_info", None) or {}).get("raised_exception"))


def failing_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows that failed: those flagged by a `failed` column, or every row when there is none."""
    if rows and FAILED_COLUMN in rows[0]:
        return [row for row in rows if row[FAILED_COLUMN]]
    return list(rows)


def observed(result: Any) -> str:
    rows = _rows(result)
    if is_skipped(result):  # what was measured, without a verdict on it
        measured = "; ".join(", ".join(f"{k}={_cell(v)}" for k, v in row.items() if k != FAILED_COLUMN) for row in rows)
        return f"skipped, not judged (measured: {measured or 'no rows'})"
    failing = len(failing_rows(rows))
    return f"{failing} failing of {len(rows)} rows" if rows else "no rows"


def rows_table(result: Any, shown: int = ROWS_SHOWN) -> list[Any] | None:
    """The failing rows with their columns (the `failed` flag left out: every row shown failed)."""
    failing = failing_rows(_rows(result))
    if not failing:
        return None
    columns = [column for column in failing[0] if column != FAILED_COLUMN]
    table = RenderedTableContent(
        content_block_type="table",
        header_row=columns,
        table=[[_cell(row.get(column)) for column in columns] for row in failing[:shown]],
        styling={"body": {"classes": ["table-bordered", "table-sm", "mt-3"]}},
    )
    blocks: list[Any] = [table]
    if len(failing) > shown:
        blocks.append(_text("+$more more failing rows", {"more": str(len(failing) - shown)}))
    return blocks


def _rows(result: Any) -> list[dict[str, Any]]:
    details = ((getattr(result, "result", None) or {}).get("details") or {}) if result is not None else {}
    return list(details.get("unexpected_rows") or [])


def _cell(value: Any) -> str:
    return "NULL" if value is None else str(value)


def _text(template: str, params: dict[str, str]) -> RenderedStringTemplateContent:
    return RenderedStringTemplateContent(
        content_block_type="string_template", string_template={"template": template, "params": params}
    )
