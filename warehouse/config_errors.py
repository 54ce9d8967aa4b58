"""A pydantic ValidationError as lines a person can act on: where, the value, what is allowed.

`[phase5] min_player_coverage = -0.5: must be between 0 and 1`. Pydantic's own messages name Python
types and hide which table a key is in; these name the dq.toml table and key (or the environment
variable) and, for a mistyped key or check, the likely intended one. A secret's value is never shown.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from expectations.check_names import CHECK_NAMES
from warehouse.config_model import ConfigFile, Era
from warehouse.config_owners import SLACK_ID, owner_keys
from warehouse.config_service import EMAIL, TOPIC_NAME, TOPIC_PATH, CompletionSettings
from warehouse.config_types import GCS_URL, HTTP_URL, WAREHOUSE_URL

PATTERNS = {
    WAREHOUSE_URL: "must be duckdb:///path/to/file.duckdb or bigquery://PROJECT",
    f"^$|{GCS_URL}": "must be a gs://bucket/prefix URL (or empty)",
    GCS_URL: "must be a gs://bucket/prefix URL",
    f"^$|{HTTP_URL}": "must be an http(s) URL with a host (or empty)",
    HTTP_URL: "must be an http(s) URL with a host",
    f"^$|{TOPIC_PATH}": "must be a topic path projects/PROJECT/topics/TOPIC (or empty)",
    TOPIC_PATH: "must be a topic path projects/PROJECT/topics/TOPIC",
    TOPIC_NAME: "must be a Pub/Sub topic name (3-255 letters, digits, - _ . ~ + %, starting with a letter)",
    EMAIL: "must be an email address (a service account's)",
    SLACK_ID: "must be a Slack user ID (U..., W...) or user group ID (S...)",
}
WORDS = {
    "missing": "missing: add it (the committed dq.toml has every key)",
    "float_type": "must be a number",
    "int_type": "must be a whole number",
    "string_type": "must be a string (in quotes)",
    "finite_number": "must be a finite number (not inf or nan)",
    "tuple_type": "must be a list",
    "date_type": "must be a date (YYYY-MM-DD, unquoted)",
    "model_type": "must be a table",
    "dict_type": "must be a table",
    "literal_error": "must be {expected}",
}
HIDDEN_VALUE = ("missing", "unknown_check", "secret")  # absent, the key already shown, or not to be shown


def config_problems(error: ValidationError) -> list[str]:
    """One line per problem in dq.toml, in file order as pydantic found them."""
    return [_line(detail, _config_key(detail["loc"]), _config_suggestions(detail)) for detail in error.errors()]


def env_problems(error: ValidationError, secrets: Iterable[str], scheme_only: Iterable[str] = ()) -> list[str]:
    """One line per environment variable that is wrong; a secret's value stays out of the line, and
    of a URL that may hold credentials only the scheme is shown."""
    lines = []
    for detail in error.errors():
        name = str(detail["loc"][0])
        if name in secrets:
            line = _line({**detail, "type": "secret"}, f"environment: {name} (value not shown: a secret)", ())
        elif name in scheme_only:
            scheme = str(detail["input"]).split("://")[0] + "://..."
            line = _line({**detail, "input": scheme}, f"environment: {name}", ())
        else:
            line = _line(detail, f"environment: {name}", ())
        lines.append(f"{line} (or unset it)")
    return lines


def _line(detail: Any, where: str, suggestions: Iterable[str]) -> str:
    kind, value = detail["type"], detail.get("input")
    if kind == "extra_forbidden":
        words = "unknown section" if len(detail["loc"]) == 1 else "unknown key"
        close = difflib.get_close_matches(str(detail["loc"][-1]), list(suggestions), n=1)
        words += f" (did you mean {close[0]}?)" if close else ": not one nba-dq reads (check the spelling)"
    elif kind == "unknown_check":
        close = difflib.get_close_matches(str(detail["loc"][-2]), list(suggestions), n=1)
        words = detail["msg"] + (f" (did you mean {close[0]}?)" if close else "")
    elif kind == "secret":
        words = PATTERNS.get(detail.get("ctx", {}).get("pattern"), "is not valid")
    elif kind == "string_pattern_mismatch":
        words = PATTERNS.get(detail["ctx"]["pattern"], "must be a name of letters, digits and underscores")
    elif kind == "too_short":
        words = "must not be empty"
    else:
        words = WORDS[kind].format(**detail.get("ctx", {})) if kind in WORDS else detail["msg"]
    model_level = kind in ("order", "eras")
    if not where:
        return words
    if kind in HIDDEN_VALUE or model_level or isinstance(value, dict):
        return f"{where}: {words}"
    return f"{where} = {_shown(value)}: {words}"


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(list(value) if isinstance(value, tuple) else value)
    return text if len(text) <= 60 else text[:57] + "..."


def _config_key(loc: tuple[Any, ...]) -> str:
    """("phase5", "severity", "player_coverage") -> "[phase5.severity] player_coverage"; eras by number."""
    parts = [part for part in loc if part != "[key]"]
    if not parts:  # a rule across tables: its message names the keys
        return ""
    if parts[0] == "eras":
        table = "[[eras]]" + (f" #{parts[1] + 1}" if len(parts) > 1 else "")
        rest = parts[2:]
    elif len(parts) > 2 and parts[1] == "severity":
        table, rest = f"[{parts[0]}.severity]", parts[2:]
    elif len(parts) > 2 and parts[0] == "completion":
        table, rest = f"[completion.{parts[1]}]", parts[2:]
    else:
        table, rest = f"[{parts[0]}]", parts[1:]
    key = "".join(f"[{part}]" if isinstance(part, int) else f" {part}" for part in rest)
    return table + key


def _config_suggestions(detail: Any) -> Iterable[str]:
    """What a mistyped section, key or check name may have meant to be."""
    if detail["type"] not in ("extra_forbidden", "unknown_check"):
        return ()
    loc = [part for part in detail["loc"] if part != "[key]"]
    if len(loc) == 1:
        return ConfigFile.model_fields
    if len(loc) > 2 and loc[1] == "severity":
        return CHECK_NAMES.get(str(loc[0]), ())
    if loc[0] == "owners":
        return owner_keys()
    section = Era if loc[0] == "eras" else ConfigFile.model_fields[loc[0]].annotation
    if loc[0] == "completion" and len(loc) > 2:
        section = CompletionSettings
    return getattr(section, "model_fields", {})
