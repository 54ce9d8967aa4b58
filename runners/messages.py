"""A Pub/Sub push delivery read into what nba-dq acts on: a processor's report, or why there is none.

The envelope is `{"message": {"data": base64(JSON), "attributes", "messageId", "publishTime"},
"subscription", "deliveryAttempt"?}`. The platform's bodies (tests/fixtures/pubsub, README there):
Phases 3, 4 and 5 use its unified publisher (game_date, execution_id, metadata; None keys dropped);
grading and Phase 6 build their own (target_date, no execution_id, no metadata, None kept).

Nothing here raises on bad input: a body nba-dq cannot read is `Malformed` (with the reason), one from
a processor no `[completion.*]` table lists is `Unknown`. Both are acknowledged (redelivering them
changes nothing) and recorded, so a publisher's mistake is visible rather than retried forever.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from expectations.claims import ProcessorReport

# Body fields read into the report's typed fields; every other field is a detail.
TYPED_FIELDS = frozenset(
    {"processor_name", "phase", "execution_id", "correlation_id", "game_date", "target_date", "output_table",
     "status", "record_count", "timestamp", "metadata"}
)  # fmt: skip
# Detail keys naming a time or a duration: they change between two publications of the same counts
# (Phase 5 re-publishes a batch's summary with a new timestamp), so they do not make a report new.
TIMING_SUFFIXES = ("_time", "_seconds", "_runtime")
# The statuses checks reconcile (success | partial | no_data | failed), from what each publisher sends.
# Phases 3-5 send only these four. Grading and Phase 6 send their own; each is mapped to what it means
# for the data, and the status as sent is kept in the details (`reported_status`) and logged, so a run
# that was skipped or failed upstream is never reported as a plain success.
STATUSES = {
    "success": "success",
    "partial": "partial",  # Phase 6: some exports failed (its `errors` list says which)
    "no_data": "no_data",
    "failed": "failed",
    "skipped": "no_data",  # grading: no predictions or no actuals for the date
    "auto_heal_pending": "no_data",  # grading: no predictions yet, Phase 5 re-run requested; grading comes later
    "auto_heal_failed": "failed",  # grading: no predictions, and the re-run request failed
    "analytics_not_ready": "failed",  # Phase 6: refused to export, Phase 3 data missing
    "validation_failed": "failed",  # Phase 6: refused to export, predictions missing
}
UNKNOWN_STATUS = "failed"  # a status no publisher documents (Phase 6's "unknown" default): fail closed


@dataclass(frozen=True)
class Report:
    """One processor's completion message for (checkpoint, game date)."""

    checkpoint: str
    game_date: date
    processor: str
    status: str
    record_count: int | None
    output_table: str | None
    details: Mapping[str, Any]
    execution_id: str | None
    correlation_id: str | None
    message_id: str | None
    published_at: str | None  # the body's timestamp (else Pub/Sub's publishTime)

    @property
    def execution(self) -> str:
        """Which run of the processor this is. Grading and Phase 6 carry no execution_id: their body's
        timestamp is set once per run (a redelivery repeats it, a re-run does not), else the messageId."""
        return self.execution_id or self.published_at or self.message_id or ""

    @property
    def fingerprint(self) -> str:
        """What the report says, timings aside: the same execution saying the same is a duplicate."""
        said = {
            "status": self.status,
            "record_count": self.record_count,
            "output_table": self.output_table,
            "details": {key: value for key, value in self.details.items() if not key.endswith(TIMING_SUFFIXES)},
        }
        return hashlib.sha256(json.dumps(said, sort_keys=True, default=str).encode()).hexdigest()[:16]

    def as_claim(self) -> ProcessorReport:
        return ProcessorReport(
            processor=self.processor,
            status=self.status,
            output_table=self.output_table,
            record_count=self.record_count,
            details=self.details,
            execution_id=self.execution_id,
            message_id=self.message_id,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "processor": self.processor,
            "status": self.status,
            "record_count": self.record_count,
            "output_table": self.output_table,
            "details": dict(self.details),
            "execution_id": self.execution_id,
            "correlation_id": self.correlation_id,
            "message_id": self.message_id,
            "published_at": self.published_at,
            "execution": self.execution,
            "fingerprint": self.fingerprint,
        }


@dataclass(frozen=True)
class Malformed:
    """A delivery nba-dq cannot read: acknowledged and recorded with the reason."""

    reason: str
    message_id: str | None
    envelope_digest: str  # names the record when there is no messageId
    data: str = ""  # the decoded body (or what there is of it), cut short, for the record
    kind: str = field(default="malformed", init=False)


@dataclass(frozen=True)
class Unknown:
    """A readable report from a processor no `[completion.*]` table lists."""

    processor: str
    phase: str | None
    game_date: date
    message_id: str | None
    envelope_digest: str
    kind: str = field(default="unknown", init=False)


Parsed = Report | Malformed | Unknown
RECORDED_DATA_CHARS = 2000


def parse_envelope(envelope: Any, processors: Mapping[str, str]) -> Parsed:
    """The push delivery as a report. `processors` maps each configured processor name to its checkpoint."""
    digest = hashlib.sha256(json.dumps(envelope, sort_keys=True, default=str).encode()).hexdigest()[:16]
    message = envelope.get("message") if isinstance(envelope, Mapping) else None
    if not isinstance(message, Mapping):
        return Malformed("the push body has no `message` object", None, digest)
    message_id = message.get("messageId") or message.get("message_id")
    message_id = str(message_id) if isinstance(message_id, (str, int)) and message_id != "" else None
    text, body = _decoded(message.get("data"))
    if isinstance(body, str):  # a reason
        return Malformed(body, message_id, digest, text[:RECORDED_DATA_CHARS])
    problem = _problem(body)
    if problem:
        return Malformed(problem, message_id, digest, text[:RECORDED_DATA_CHARS])
    game_date = date.fromisoformat(body.get("game_date") or body["target_date"])
    processor = body["processor_name"]
    checkpoint = processors.get(processor)
    if checkpoint is None:
        return Unknown(processor, body.get("phase"), game_date, message_id, digest)
    metadata = body.get("metadata") or {}
    details = {key: value for key, value in body.items() if key not in TYPED_FIELDS}
    status = STATUSES.get(body["status"], UNKNOWN_STATUS)
    if status != body["status"]:
        details["reported_status"] = body["status"]
    return Report(
        checkpoint=checkpoint,
        game_date=game_date,
        processor=processor,
        status=status,
        record_count=body.get("record_count"),
        output_table=body.get("output_table"),
        details={**details, **metadata},  # metadata's counts (Phase 5's completion_pct) as details
        execution_id=body.get("execution_id"),
        correlation_id=body.get("correlation_id"),
        message_id=message_id,
        published_at=body.get("timestamp") or _text(message.get("publishTime")),
    )


def _decoded(data: Any) -> tuple[str, dict[str, Any] | str]:
    """(the decoded text, the JSON object) or (what there is, the reason it is not one)."""
    if not isinstance(data, str) or not data:
        return "", "message.data is missing or not a base64 string"
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return data, "message.data is not valid base64"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "", "message.data is not UTF-8 text"
    try:
        body = json.loads(text, parse_constant=_no_constant)
    except ValueError as error:
        return text, f"message.data is not JSON ({error})"
    if not isinstance(body, dict):
        return text, f"message.data is JSON {type(body).__name__}, not an object"
    return text, body


def _no_constant(name: str) -> Any:
    """json.loads accepts NaN and Infinity, which no count may be: refuse them as not JSON."""
    raise ValueError(f"{name} is not a JSON value")


def _problem(body: Mapping[str, Any]) -> str | None:
    """Why the body is not a completion report, or None."""
    for key in ("processor_name", "status"):
        if not isinstance(body.get(key), str) or not body[key].strip():
            return f"{key} is missing or not a non-empty string"
    day = body.get("game_date") or body.get("target_date")
    if day is None:
        return "no game_date (or target_date)"
    if not isinstance(day, str):
        return f"game_date {day!r} is not a YYYY-MM-DD string"
    try:
        date.fromisoformat(day)
    except ValueError:
        return f"game_date {day!r} is not a date (YYYY-MM-DD)"
    if len(day) != len("YYYY-MM-DD"):
        return f"game_date {day!r} is not a date (YYYY-MM-DD)"
    count = body.get("record_count")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 0):
        return f"record_count {count!r} is not a whole number of records"
    for key in ("output_table", "execution_id", "correlation_id", "timestamp"):
        if body.get(key) is not None and not isinstance(body[key], str):
            return f"{key} {body[key]!r} is not a string"
    if body.get("metadata") is not None and not isinstance(body["metadata"], dict):
        return "metadata is not an object"
    bad = [key for key, value in _numbers(body) if not math.isfinite(value)]
    if bad:
        return f"{', '.join(bad)} is not a finite number"
    return None


def _numbers(value: Any, path: str = "") -> list[tuple[str, float]]:
    """Every float in the body with its path (a NaN count cannot be reconciled with anything)."""
    if isinstance(value, float):
        return [(path, value)]
    if isinstance(value, Mapping):
        return [found for key, item in value.items() for found in _numbers(item, f"{path}.{key}".lstrip("."))]
    if isinstance(value, list):
        return [found for number, item in enumerate(value) for found in _numbers(item, f"{path}[{number}]")]
    return []


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
