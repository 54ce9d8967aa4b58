"""The value types dq.toml and the environment are validated with: strict, finite, ranged, named.

Each says what it allows in words a config error can repeat ("must be between 0 and 1").
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainValidator, StrictInt, StrictStr
from pydantic_core import PydanticCustomError

SEVERITIES = ("critical", "warning")
WAREHOUSE_URL = r"^(duckdb:///.+|bigquery://[^/?#]+.*)$"  # what open_warehouse can open
GCS_URL = r"^gs://[^/\s]+(/\S*)?$"
HTTP_URL = r"^https?://[^/\s:]+(:\d+)?(/\S*)?$"


def _finite_number(value: Any) -> float:
    """An int or a finite float, kept as given (`60` stays 60 in the checks' wording); never a bool or a string."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PydanticCustomError("float_type", "must be a number")
    if not math.isfinite(value):
        raise PydanticCustomError("finite_number", "must be a finite number")
    return value


def bounded(low: float, high: float | None = None, low_open: bool = False, high_open: bool = False) -> AfterValidator:
    """A range, worded as one range (between 0 and 1) rather than as the bound it broke."""

    def check(value: float) -> float:
        above_low = value > low if low_open else value >= low
        below_high = high is None or (value < high if high_open else value <= high)
        if not (above_low and below_high):
            words = f"{'greater than' if low_open else 'at least'} {low}"
            if high is not None:
                words = f"between {low} and {high}" if not (low_open or high_open) else f"{words} and below {high}"
            raise PydanticCustomError("range", "must be {words}", {"words": words})
        return value

    return AfterValidator(check)


Number = Annotated[float, PlainValidator(_finite_number)]
Share = Annotated[Number, bounded(0, 1)]
Positive = Annotated[Number, bounded(0, low_open=True)]
Count = Annotated[StrictInt, bounded(0)]
AtLeastOne = Annotated[StrictInt, bounded(1)]
Name = Annotated[StrictStr, Field(min_length=1)]
DatasetName = Annotated[StrictStr, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]  # it goes into SQL unquoted


def _folder_or_gcs(root: str) -> str:
    """An export root is read as a local folder unless it is gs://: another scheme would be a folder named s3:."""
    scheme = re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", root)
    if scheme and not re.fullmatch(GCS_URL, root):
        raise PydanticCustomError("export_root", "must be a local folder or a gs://bucket/prefix URL")
    return root


ExportRoot = Annotated[Name, AfterValidator(_folder_or_gcs)]


def _distinct(values: tuple[str, ...]) -> tuple[str, ...]:
    repeated = sorted({value for value in values if values.count(value) > 1})
    if repeated:
        raise PydanticCustomError("repeated", "lists {repeated} more than once", {"repeated": ", ".join(repeated)})
    return values


Names = Annotated[tuple[Name, ...], Field(min_length=1), AfterValidator(_distinct)]  # non-empty, no duplicates


class Section(BaseModel):
    """A dq.toml table: frozen, and a key it does not know is an error (a typo must not be ignored)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def _ordered(self, *pairs: tuple[str, str]) -> None:
        """Each (low, high) pair of keys holds low <= high."""
        wrong = [(low, high) for low, high in pairs if getattr(self, low) > getattr(self, high)]
        if wrong:
            text = ", ".join(
                f"{low} = {getattr(self, low)} must not exceed {high} = {getattr(self, high)}" for low, high in wrong
            )
            raise PydanticCustomError("order", "{text}", {"text": text})
