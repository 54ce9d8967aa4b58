"""dq.toml's `[service]` and `[completion.*]` tables: what `nba-dq serve` and `nba-dq sweep` read.

Kept beside config_model.py (which includes them in ConfigFile) so each module stays one subject.
A completion table lists the processor names exactly as the platform's messages carry them
(`processor_name`, the class name for Phases 3 and 4): a message naming a processor no table lists
is acknowledged as unknown, never guessed into a phase.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictInt, StrictStr, model_validator
from pydantic_core import PydanticCustomError

from warehouse.config_types import Name, Names, Positive, Section, bounded

# Pub/Sub's own rules: a project id, a topic name of 3-255 characters starting with a letter.
TOPIC_PATH = r"^projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/topics/[A-Za-z][A-Za-z0-9._~+%-]{2,254}$"
TOPIC_NAME = r"^[A-Za-z][A-Za-z0-9._~+%-]{2,254}$"
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
ACK_DEADLINE_SECONDS = 600  # Pub/Sub's longest push acknowledgement deadline


class ServiceSettings(Section):
    """`nba-dq serve`: who may push, how long a run may take, where verdicts go, when a phase is overdue."""

    audience: StrictStr  # the push subscription's OIDC audience (the service URL); NBA_DQ_PUSH_AUDIENCE
    allowed_service_accounts: tuple[Annotated[StrictStr, Field(pattern=EMAIL)], ...]
    # A run still going when Pub/Sub stops waiting would be delivered again while it runs.
    run_deadline_seconds: Annotated[StrictInt, bounded(1, ACK_DEADLINE_SECONDS, high_open=True)]
    verdict_topic: Annotated[StrictStr, Field(pattern=f"^$|{TOPIC_PATH}")]  # NBA_DQ_VERDICT_TOPIC
    overdue_after_hours: Positive


class CompletionSettings(Section):
    """One phase's completion: the topic its messages come on, and every processor that must report."""

    topic: Annotated[StrictStr, Field(pattern=TOPIC_NAME)]
    processors: Names


class CompletionTables(Section):
    """`[completion.<checkpoint>]` for every phase nba-dq checks."""

    phase3: CompletionSettings
    phase4: CompletionSettings
    phase5: CompletionSettings
    phase5b: CompletionSettings
    phase6: CompletionSettings

    @model_validator(mode="after")
    def _one_phase_per_processor(self) -> CompletionTables:
        """A message is routed to its phase by processor name: a name in two tables has no phase."""
        seen: dict[str, str] = {}
        repeated = []
        for checkpoint, table in self.by_checkpoint().items():
            for processor in table.processors:
                if processor in seen:
                    repeated.append(f"{processor} ([completion.{seen[processor]}] and [completion.{checkpoint}])")
                seen.setdefault(processor, checkpoint)
        if repeated:
            text = ", ".join(repeated)
            raise PydanticCustomError("order", "{text}: a processor belongs to one phase", {"text": text})
        return self

    def by_checkpoint(self) -> dict[str, CompletionSettings]:
        return {name: getattr(self, name) for name in type(self).model_fields}


__all__ = ["ACK_DEADLINE_SECONDS", "CompletionSettings", "CompletionTables", "Name", "ServiceSettings"]
