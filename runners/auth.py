"""Who may push: Pub/Sub's OIDC token, checked before a message is read.

A push subscription with an authentication identity sends `Authorization: Bearer <JWT>`, signed by
Google for the subscription's audience and naming its service account. Cloud Run can check the
token itself (IAM invoker), but a service reachable without that (or redeployed with
--allow-unauthenticated) would otherwise run checkpoints and post alerts for anyone: the check lives
here too. A token is accepted when Google's certificates verify it, its audience is `[service]
audience`, its issuer is Google's, and its email is verified and allow-listed.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any

from reporting.reporter import alerter_from_env
from warehouse.environment import (
    BOT_TOKEN,
    ENVIRONMENT,
    PRODUCTION,
    PUSH_AUDIENCE,
    PUSH_AUTH,
    STATE_URL,
    WEBHOOK_DEFAULT,
)
from warehouse.errors import CouldNotRun
from warehouse.settings import Settings

log = logging.getLogger(__name__)
Verifier = Callable[[str], Mapping[str, Any]]  # a token's verified claims; raises when it is not valid
GOOGLE_ISSUERS = ("accounts.google.com", "https://accounts.google.com")
GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"
CERTS_MAX_AGE_SECONDS = 3600  # Google publishes a new signing key well before it signs with it
REFETCH_AFTER_SECONDS = 60


def google_verifier(
    audience: str, certs_url: str = GOOGLE_CERTS_URL, clock: Callable[[], float] = time.monotonic
) -> Verifier:
    """google-auth's JWT check (signature against `certs_url`'s keys, expiry, audience), with Google's
    certificates kept for CERTS_MAX_AGE_SECONDS instead of fetched on every push (google-auth's
    verify_token fetches them each time: a request to Google per message, and a failed push whenever
    that request fails). A token signed with a key the kept certificates lack (Google rotated its keys)
    fetches them again, at most once per REFETCH_AFTER_SECONDS, so forged tokens cannot make every
    push a fetch."""
    import google.auth.transport.requests
    from google.auth import exceptions, jwt

    request = google.auth.transport.requests.Request()
    kept: dict[str, Any] = {"certs": None, "at": 0.0}
    lock = threading.Lock()

    def certs(rotated: bool) -> Mapping[str, str]:
        with lock:
            age = clock() - kept["at"]
            if kept["certs"] is None or age >= CERTS_MAX_AGE_SECONDS or (rotated and age >= REFETCH_AFTER_SECONDS):
                response = request(certs_url, method="GET")
                if response.status != 200:
                    raise exceptions.TransportError(f"{certs_url} answered {response.status}")
                kept.update(certs=json.loads(response.data), at=clock())
            return dict(kept["certs"])

    def verify(token: str) -> Mapping[str, Any]:
        try:
            return jwt.decode(token, certs=certs(rotated=False), audience=audience)
        except ValueError as error:
            if "key id" not in str(error):
                raise
            return jwt.decode(token, certs=certs(rotated=True), audience=audience)

    return verify


def rejection(authorization: str | None, verifier: Verifier, allowed: Collection[str]) -> str | None:
    """Why the request's Authorization header does not let it push, or None when it does."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return "no bearer token"
    try:
        claims = verifier(token.strip())
    except Exception as error:  # any failure to verify is a refusal (google-auth raises several types)
        return f"token not valid: {type(error).__name__}: {error}"
    if claims.get("iss") not in GOOGLE_ISSUERS:
        return f"token issuer {claims.get('iss')!r} is not Google's"
    if claims.get("email_verified") is not True:
        return "token email is not verified"
    if claims.get("email") not in allowed:
        return f"token email {claims.get('email')!r} is not in [service] allowed_service_accounts"
    return None


def serve_problems(settings: Settings, env: Mapping[str, str]) -> list[str]:
    """What makes the service unfit to start (each one line; empty when fit). With the token check on,
    an empty audience or allow-list would refuse every push: said at start, not as 403s. Production
    refuses the check off, local state (a Cloud Run container keeps no files) and alerts going nowhere."""
    problems = []
    hint = "" if settings.production else f", or {PUSH_AUTH}=off for local use"
    if settings.production and not settings.push_auth:
        problems.append(f"{PUSH_AUTH}=off is refused with {ENVIRONMENT}={PRODUCTION}: anyone could push")
    elif settings.push_auth and not settings.service.audience:
        problems.append(f"[service] audience is empty: set it or {PUSH_AUDIENCE} (the push audience){hint}")
    elif settings.push_auth and not settings.service.allowed_service_accounts:
        problems.append(f"[service] allowed_service_accounts is empty: list the pushing service accounts{hint}")
    if settings.production and not settings.state.url:
        problems.append(f"set {STATE_URL} to a gs:// prefix: a Cloud Run container keeps no files")
    if settings.production and alerter_from_env(settings, env) is None:
        problems.append(f"no Slack destination: alerts would go nowhere (set {WEBHOOK_DEFAULT} or {BOT_TOKEN})")
    return problems


def check_fit_to_serve(settings: Settings, env: Mapping[str, str]) -> None:
    """Refuse to start (exit 2, one line) rather than serve unsafely."""
    problems = serve_problems(settings, env)
    if problems:
        raise CouldNotRun("serve: " + "; ".join(problems))
