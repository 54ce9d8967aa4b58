"""A lock that holds across machines: a lease document in the state store.

On one machine nba-dq takes turns with flock, which the kernel releases when a holder dies. Instances
on Cloud Run share no kernel, so the lock is a document instead: taken with the store's atomic
create(), given back by deleting it. A holder that died keeps it until its lease ends (`[state]
lease_seconds`); then the next one takes it over with a compare-and-set on the version it read, so
of several waiters exactly one does. The holder's work must therefore end well within the lease (the
alert lock covers a commit and at most the Slack time budget; the lease is 11 minutes).
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

from state.store import LockTimeout, StateStore, StateUnavailable, read_checked

log = logging.getLogger(__name__)
LONGEST_PAUSE_SECONDS = 1.0  # GCS takes about one write a second per object: waiters poll no faster


def this_process() -> str:
    """Who holds a lease, for messages: the host (a Cloud Run instance) and the process."""
    return f"{socket.gethostname()}:{os.getpid()}"


@contextmanager
def held(
    store: StateStore,
    name: str,
    lease_seconds: float,
    owner: str,
    wait_seconds: float | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[None]:
    """Hold the lock `name` for the with-block. Waits while a live holder has it (up to `wait_seconds`,
    by default one lease, after which a dead holder's lease has surely ended), then LockTimeout."""
    token = uuid.uuid4().hex  # ours alone, even for two holders in one process
    deadline = time.monotonic() + (lease_seconds if wait_seconds is None else wait_seconds)
    pause = 0.05
    while True:
        claim = {"owner": owner, "token": token, "since": clock().isoformat()}
        if store.create(name, claim):
            break
        holder = read_checked(store, name, _check_claim)  # a corrupt lease is quarantined: free again
        if holder is not None and _expired(holder.document, lease_seconds, clock()):
            if store.replace(name, claim, holder.version):
                log.warning(
                    "state: took over the lock %s/%s from %s (held since %s, longer than its %g s lease)",
                    store.location,
                    name,
                    holder.document["owner"],
                    holder.document["since"],
                    lease_seconds,
                )
                break
            continue  # another waiter took it over first
        if holder is not None and time.monotonic() >= deadline:
            raise LockTimeout(
                f"{store.location}/{name} is held by {holder.document['owner']} since {holder.document['since']}"
                f" (a lease of {lease_seconds:g} s): try again later"
            )
        sleep(pause)
        pause = min(pause * 2, LONGEST_PAUSE_SECONDS)
    try:
        yield
    finally:
        _release(store, name, token)


def _release(store: StateStore, name: str, token: str) -> None:
    """Delete the lease only if it is still ours (after a takeover it is the new holder's). The version
    read is passed on, so a store that enforces it (GCS) never deletes a lease taken over meanwhile."""
    try:
        current = read_checked(store, name, _check_claim)
        if current is not None and current.document["token"] == token:
            store.delete(name, current.version)
    except StateUnavailable as error:  # it ends with its lease anyway
        log.warning("state: could not release the lock %s/%s (%s); it ends with its lease", store.location, name, error)


def _expired(claim: dict[str, Any], lease_seconds: float, now: datetime) -> bool:
    return now - datetime.fromisoformat(claim["since"]) >= timedelta(seconds=lease_seconds)


def _check_claim(document: Any) -> None:
    """What held() writes: an owner, a token and a time with a zone."""
    if not isinstance(document, dict) or not all(isinstance(document.get(key), str) for key in ("owner", "token")):
        raise ValueError("not a lease: no owner or token")
    if datetime.fromisoformat(document["since"]).tzinfo is None:
        raise ValueError(f"not a time with a zone: {document['since']!r}")
