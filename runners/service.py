"""`nba-dq serve`: the Pub/Sub push endpoint, a Flask app under gunicorn (Cloud Run's usual pairing).

POST /pubsub/push takes a push delivery (runners/events.py decides the answer); POST /slack/actions
takes an Acknowledge or Mute click from an alert (runners/slack_actions.py); GET /healthz says the
process is up, which version it runs and where its state lives (no secrets). Each POST route verifies
its caller in the app (Google's OIDC token, Slack's signature), so neither depends on Cloud Run's IAM.

One gunicorn worker process with several threads: the GX context is built once per process and
reused by every run (checkpoints/context.py: shared_context, guarded by its lock), a second process
would pay for its own and hold its own DuckDB connections. Threads let a duplicate or a waiting
report be answered while a run is in progress. The request timeout exceeds run_deadline_seconds, so
gunicorn never kills a run that events.py would still answer for.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Mapping
from datetime import timedelta
from importlib import metadata
from typing import Any, TextIO

from runners.auth import Verifier, check_fit_to_serve, google_verifier, rejection
from runners.events import Clock, PushContext, handle_push
from runners.slack_actions import ACTIONS_PATH, MAX_ACTION_BYTES, SlackActions
from warehouse.environment import ENVIRONMENT
from warehouse.errors import ExitCode
from warehouse.settings import Settings

log = logging.getLogger(__name__)
PUSH_PATH, HEALTH_PATH = "/pubsub/push", "/healthz"
THREADS = 8  # concurrent requests per instance (Cloud Run's concurrency should not exceed it)
TIMEOUT_MARGIN_SECONDS = 30  # gunicorn's timeout beyond the run deadline


def create_app(
    settings: Settings,
    env: Mapping[str, str],
    verifier: Verifier | None = None,
    context: PushContext | None = None,
    clock: Clock | None = None,
) -> Any:
    """The Flask app. Refuses (CouldNotRun) what must not run in production; `verifier` and `context`
    replace Google's token check and the configured state store (tests)."""
    from flask import Flask, jsonify, request

    check_fit_to_serve(settings, env)
    if settings.push_auth and verifier is None:
        verifier = google_verifier(settings.service.audience)
    if not settings.push_auth:
        log.warning("NBA_DQ_PUSH_AUTH=off: pushes are taken without a token check (local use only)")
    context = context or PushContext.open(settings, clock)
    allowed = frozenset(settings.service.allowed_service_accounts)
    slack_actions = SlackActions(settings, env, context.store)
    app = Flask("nba-dq")

    @app.post(PUSH_PATH)
    def push() -> Any:
        if verifier is not None:
            refused = rejection(request.headers.get("Authorization"), verifier, allowed)
            if refused:
                log.warning("push refused: %s", refused)
                return jsonify({"outcome": "forbidden", "error": refused}), 403
        envelope = request.get_json(force=True, silent=True)  # whatever the Content-Type says
        if envelope is None:  # not JSON: still a delivery, recorded as malformed and acknowledged
            envelope = request.get_data(as_text=True)
        outcome = handle_push(settings, env, envelope, context)
        log.info("push %s -> %s %s", _message_id(envelope), outcome.status, outcome.outcome)
        return jsonify(outcome.body()), outcome.status

    @app.post(ACTIONS_PATH)
    def slack_action() -> Any:
        # Anyone may reach this route: a body larger than any click is refused (413) before it is read.
        request.max_content_length = MAX_ACTION_BYTES
        # The raw bytes, read before anything parses the form: the signature is over them as sent.
        answer = slack_actions.answer(request.headers, request.get_data(cache=True), context.clock())
        return answer.text, answer.status, {"Content-Type": "text/plain; charset=utf-8"}

    @app.get(HEALTH_PATH)
    def health() -> Any:
        return jsonify(
            {
                "status": "ok",
                "version": _version(),
                "environment": env.get(ENVIRONMENT) or "development",
                "state_store": context.store.location,
                "push_auth": verifier is not None,
                "slack_actions": bool(slack_actions.secret),  # whether clicks can be verified (never the secret)
                "checkpoints": sorted(settings.completion),
            }
        )

    return app


def serve(settings: Settings, env: Mapping[str, str], host: str | None, port: int | None) -> None:
    """Run the app under gunicorn until stopped. Cloud Run gives the port in PORT and expects 0.0.0.0;
    elsewhere the default is 127.0.0.1:8080 (a laptop's service is not the network's)."""
    from gunicorn.app.base import BaseApplication

    check_fit_to_serve(settings, env)  # refused settings fail here, before a port is bound
    on_cloud_run = bool(env.get("PORT"))
    bind_host = host or ("0.0.0.0" if on_cloud_run else "127.0.0.1")
    bind_port = port or int(env.get("PORT") or 8080)
    options = {
        "bind": f"{bind_host}:{bind_port}",
        "workers": 1,
        "worker_class": "gthread",
        "threads": THREADS,
        "timeout": settings.service.run_deadline_seconds + TIMEOUT_MARGIN_SECONDS,
        "graceful_timeout": settings.service.run_deadline_seconds + TIMEOUT_MARGIN_SECONDS,
        "accesslog": "-",
        "control_socket_disable": True,  # nothing administers it from inside the container
    }

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            # Built in the worker process, after the fork: its store's and Google's HTTP sessions are its own.
            return create_app(settings, env)

    log.warning("nba-dq serve listening on %s", options["bind"])
    Server().run()


def _version() -> str:
    try:
        return metadata.version("nba-dq")
    except metadata.PackageNotFoundError:
        return "unknown"


def _message_id(envelope: Any) -> str | None:
    message = envelope.get("message") if isinstance(envelope, Mapping) else None
    return message.get("messageId") if isinstance(message, Mapping) else None


def service_command(
    args: argparse.Namespace, settings: Settings, env: Mapping[str, str], out: TextIO, err: TextIO
) -> ExitCode:
    """`nba-dq serve` (runs until stopped) and `nba-dq sweep`."""
    if args.command == "serve":
        serve(settings, env, args.host, args.port)
        return ExitCode.PASSED
    from checkpoints.summary import dumps
    from runners.sweep import exit_code, render_sweep, sweep

    context = PushContext.open(settings, (lambda: args.now) if args.now else None)
    game_date = args.game_date or (context.clock().date() - timedelta(days=1))
    swept = sweep(settings, env, game_date, context, err)
    report = {"game_date": game_date.isoformat(), "phases": [phase.to_json() for phase in swept]}
    print(dumps(report) if args.json else render_sweep(game_date, swept), file=out)
    return exit_code(swept)
