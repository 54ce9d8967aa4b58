"""`nba-dq doctor`: is everything a run needs in place? One line per thing, before a run finds out.

The warehouse answers; every table and column the suites read exists with the catalog's type (schema
drift once failed every write for days); those tables can be read; the history can be written; Slack
has a destination (a bot token is checked with auth.test and the bot's access to each channel) and
the signing secret its buttons' clicks are verified with; the Data Docs site and the exports can be
reached; the state store (local files or a GCS prefix) can be written, and holds no quarantined
document. Each probe is independent: one failing does not hide the others.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

import sqlalchemy as sa

from checkpoints.phases import PHASES
from reporting.alerts import waiting_messages
from reporting.data_docs import site_folder
from reporting.history import History, warehouse_label
from reporting.slack import NO_DESTINATION, routing_from_env
from reporting.slack_check import check_destination
from reporting.terminal import printable
from state.files import quarantined
from state.store import LocalFiles, StateStore, StateUnavailable, local_store, open_store
from warehouse.catalog import PARTITION_COLUMN, Table
from warehouse.connection import Warehouse, first_line, open_warehouse, schema_problems
from warehouse.dialect import date_literal
from warehouse.environment import ENVIRONMENT, PRODUCTION, SIGNING_SECRET
from warehouse.errors import CouldNotRun, ExitCode
from warehouse.exports import GCS_SCHEME, gcs_client
from warehouse.settings import Settings

# Every table a phase reads, once each, in pipeline order.
CHECKED_TABLES: tuple[Table, ...] = tuple(
    {table.name: table for phase in PHASES.values() for table in phase.tables}.values()
)


@dataclass(frozen=True)
class Finding:
    subject: str
    ok: bool
    detail: str
    warning: bool = False  # ok, but worth a look: shown as "warn", exit 0
    skipped: bool = False  # not probed: it needs something another line reports as failing


CONFIG = "config"


def doctor(settings: Settings, env: Mapping[str, str], today: date | None = None) -> list[Finding]:
    findings = [_probe(CONFIG, lambda: f"{settings.config_path} read and valid")]
    opened: list[Warehouse] = []
    findings.append(_probe("warehouse", lambda: _answers(opened, settings)))
    if findings[-1].ok:
        warehouse = opened[0]
        findings += _tables(warehouse, today or datetime.now(timezone.utc).date())
    store = open_store(settings)
    state_store = _probe("state store", lambda: _state_store_writable(store))  # once: a store down costs retries
    reachable = store if state_store.ok else None
    findings.append(_probe("history", History(settings, store=store).check_writable))
    findings.append(_slack(settings, env, reachable))
    findings.append(_slack_actions(settings, env))
    findings.append(_probe("data docs", lambda: _data_docs_writable(settings)))
    findings.append(_probe("exports", lambda: _exports_readable(settings.export_root)))
    findings.append(state_store)
    findings.append(_probe("state files", lambda: _no_quarantined_state(settings, reachable)))
    return findings


def config_findings(problems: list[str]) -> list[Finding]:
    """A config that does not validate: a FAIL line per problem; every other probe needs the config."""
    return [
        *(Finding(CONFIG, False, problem) for problem in problems),
        Finding("other probes", False, "skipped: they need a valid config (fix the config lines above)", skipped=True),
    ]


def exit_code(findings: list[Finding]) -> ExitCode:
    return ExitCode.PASSED if all(finding.ok for finding in findings) else ExitCode.CHECK_FAILED


def render_doctor(findings: list[Finding]) -> str:
    problems = sum(not finding.ok and not finding.skipped for finding in findings)
    warnings = sum(finding.ok and finding.warning for finding in findings)
    width = max(len(printable(finding.subject)) for finding in findings)
    verdict = f"{problems} problem(s)" if problems else "ok" + (f", {warnings} warning(s)" if warnings else "")
    lines = [f"nba-dq doctor: {verdict}"]
    lines += [f"{_label(f)}  {printable(f.subject).ljust(width)}  {printable(f.detail)}" for f in findings]
    return "\n".join(lines)


def doctor_json(findings: list[Finding]) -> dict[str, Any]:
    return {
        "status": "pass" if exit_code(findings) == ExitCode.PASSED else "fail",
        "checks": [
            {
                "subject": f.subject,
                "ok": f.ok,
                "warning": f.warning,
                "detail": f.detail,
                **({"skipped": True} if f.skipped else {}),
            }
            for f in findings
        ],
    }


def _label(finding: Finding) -> str:
    if finding.skipped:
        return "skip"
    return "FAIL" if not finding.ok else "warn" if finding.warning else "ok  "


def _slack(settings: Settings, env: Mapping[str, str], store: StateStore | None) -> Finding:
    """No destination is what `run` says about it: a warning in development, a FAIL in production.
    Messages waiting in the outbox (Slack did not take them) make an ok line a warning. (No store: it
    cannot be reached, which the state store line says.)"""
    try:
        waiting = [] if store is None else waiting_messages(store)
    except StateUnavailable:
        waiting = []
    where, _, first = waiting[0].rpartition("/") if waiting else ("", "", "")
    location = store.location if store is not None else ""
    backlog = f"; {len(waiting)} message(s) waiting in {location}/{where} since {first}" if waiting else ""
    if routing_from_env(env, settings.alerts) is None and not settings.production:
        detail = f"{NO_DESTINATION}; an error with {ENVIRONMENT}={PRODUCTION}{backlog}"
        return Finding("slack", True, detail, warning=True)
    finding = _probe("slack", lambda: check_destination(env, settings.alerts))
    return Finding("slack", finding.ok, finding.detail + backlog, warning=bool(waiting))


def _slack_actions(settings: Settings, env: Mapping[str, str]) -> Finding:
    """Acknowledge and Mute need the Slack app's signing secret: without it `nba-dq serve` refuses every
    click (403, fail closed). A FAIL in production, where the alerts carry the buttons; the service still
    starts then (its verdicts gate the pipeline; a missing convenience must not stop them)."""
    prefix = settings.alerts.slack_response_url_prefix
    if settings.production and not prefix.startswith("https://"):
        return Finding("slack actions", False, f"[alerts] slack_response_url_prefix {prefix} is not https")
    if env.get(SIGNING_SECRET, "").strip():
        return Finding("slack actions", True, f"{SIGNING_SECRET} set: clicks verified; messages updated under {prefix}")
    detail = f"{SIGNING_SECRET} not set: `nba-dq serve` refuses Acknowledge and Mute clicks (403)"
    if settings.production:
        return Finding("slack actions", False, f"{detail}; set it to the Slack app's signing secret")
    return Finding("slack actions", True, f"{detail}; an error with {ENVIRONMENT}={PRODUCTION}")


def _probe(subject: str, probe: Callable[[], str]) -> Finding:
    try:
        return Finding(subject, True, probe())
    except CouldNotRun as error:
        return Finding(subject, False, str(error))
    except Exception as error:  # a probe that raised is a problem to report, never a crash
        return Finding(subject, False, f"{type(error).__name__}: {first_line(error)}")


def _answers(opened: list[Warehouse], settings: Settings) -> str:
    """Opens the warehouse (credentials, client) and asks it something; keeps it in `opened`."""
    warehouse = open_warehouse(settings, {"command": "doctor"})
    opened.append(warehouse)
    with warehouse.connect() as connection:
        connection.execute(sa.text("SELECT 1")).scalar_one()
    return f"{warehouse_label(warehouse.url)} answers"


def _tables(warehouse: Warehouse, today: date) -> list[Finding]:
    """Schema against the catalog (one INFORMATION_SCHEMA query per dataset), then a read of one partition."""
    try:
        problems = schema_problems(warehouse, CHECKED_TABLES)
    except CouldNotRun as error:
        return [Finding("tables", False, str(error))]
    findings = []
    for table in CHECKED_TABLES:
        qualified = warehouse.table(table)
        if problems[qualified]:
            findings.append(Finding(f"table {qualified}", False, "; ".join(problems[qualified])))
        else:
            findings.append(_probe(f"table {qualified}", lambda t=table: _readable(warehouse, t, today)))
    return findings


def _readable(warehouse: Warehouse, table: Table, today: date) -> str:
    sql = f"SELECT COUNT(*) FROM {warehouse.table(table)} WHERE {PARTITION_COLUMN} = {date_literal(today)}"
    with warehouse.connect() as connection:
        connection.execute(sa.text(sql)).scalar_one()
    return f"{len(table.columns)} columns as in the catalog; readable"


def _data_docs_writable(settings: Settings) -> str:
    site = site_folder(settings.gx_root)
    site.mkdir(parents=True, exist_ok=True)
    handle, probe = tempfile.mkstemp(prefix=".doctor.", dir=site)
    os.close(handle)
    os.unlink(probe)
    if not settings.data_docs.bucket:
        return f"{site} writable"
    bucket, _, _ = settings.data_docs.bucket[len(GCS_SCHEME) :].partition("/")
    needed = ["storage.objects.create", "storage.objects.delete", "storage.objects.get"]  # delete: overwrite a page
    granted = set(gcs_client().bucket(bucket).test_iam_permissions(needed))
    missing = sorted(set(needed) - granted)
    if missing:
        raise CouldNotRun(f"{settings.data_docs.bucket}: these credentials lack {', '.join(missing)}")
    return f"{site} writable; {settings.data_docs.bucket} accepts uploads"


def _state_store_writable(store: StateStore) -> str:
    """Where nba-dq keeps its ledger, outbox and pending rows (shared by every instance on GCS), written and read."""
    probe = f".doctor-{uuid.uuid4().hex}.json"
    if not store.create(probe, {"probe": True}) or store.read(probe) is None:
        raise StateUnavailable(f"state store {store.location}: a document written could not be read back")
    store.delete(probe)
    return f"{store.location} reachable and writable"


def _no_quarantined_state(settings: Settings, store: StateStore | None) -> str:
    """A corrupt ledger, outbox message or pending history file was moved aside: someone must look at it.
    Local files (the GX folder's own state) and the state store's quarantine/ both count (the store's
    when it can be reached)."""
    found = [(str(path), reason) for path, reason in quarantined(settings.gx_root)]
    in_gx_folder = isinstance(store, LocalFiles) and store.root == local_store(settings.gx_root).root
    if store is not None and not in_gx_folder:  # else the same folder as above: counted once
        found += store.quarantined()
    if found:
        shown = "; ".join(f"{where.rpartition('/')[2]} ({reason})" for where, reason in found[:5])
        more = f"; +{len(found) - 5} more" if len(found) > 5 else ""
        folders = sorted({where.rpartition("/")[0] for where, _ in found})
        raise CouldNotRun(
            f"{len(found)} corrupt state file(s) quarantined in {' and '.join(folders)}: {shown}{more}"
            " (inspect, re-queue or delete them)"
        )
    return "no corrupt state file quarantined"


def _exports_readable(root: str) -> str:
    if not root.startswith(GCS_SCHEME):
        if not os.path.isdir(root):
            raise CouldNotRun(f"export root {root} is not a folder (set [exports] root or NBA_DQ_EXPORT_ROOT)")
        return f"{root} readable"
    bucket, _, _ = root[len(GCS_SCHEME) :].partition("/")
    needed = ["storage.objects.get"]
    if not set(gcs_client().bucket(bucket).test_iam_permissions(needed)) >= set(needed):
        raise CouldNotRun(f"{root}: these credentials lack storage.objects.get")
    return f"{root} readable"
