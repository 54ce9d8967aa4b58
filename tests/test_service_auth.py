"""The push endpoint's OIDC check with google-auth's real verify_token: tokens signed by a test RSA key
whose certificate a 127.0.0.1 server publishes the way Google publishes its own (no network)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from google.auth import crypt, jwt

from runners.auth import google_verifier
from tests.conftest import Workspace, make_workspace
from tests.pubsub_push import Service, envelope
from warehouse.settings import PROJECT_ROOT

AUDIENCE = "https://nba-dq-abc123-uw.a.run.app/pubsub/push"
PUSHER = "nba-dq-push@nba-props-platform.iam.gserviceaccount.com"
KEY_ID = "test-key-1"


class Certs:
    """An RSA key, its self-signed certificate served as {key id: PEM} on 127.0.0.1, and a token signer."""

    def __init__(self, key_id: str = KEY_ID) -> None:
        self.key_id = key_id
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "nba-dq test")])
        now = datetime.now(timezone.utc)
        certificate = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(self.key.public_key())
            .serial_number(1).not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=1))
            .sign(self.key, hashes.SHA256())
        )  # fmt: skip
        self.document = json.dumps({key_id: certificate.public_bytes(serialization.Encoding.PEM).decode()}).encode()
        self.fetches = 0
        served = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                served.fetches += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(served.document)

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/oauth2/v1/certs"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def token(self, **claims: Any) -> str:
        now = int(time.time())
        payload = {"iss": "https://accounts.google.com", "aud": AUDIENCE, "iat": now, "exp": now + 3600,
                   "email": PUSHER, "email_verified": True, "sub": "1234567890", **claims}  # fmt: skip
        pem = self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return jwt.encode(crypt.RSASigner.from_string(pem, key_id=self.key_id), payload).decode()


@pytest.fixture(scope="module")
def certs() -> Iterator[Certs]:
    served = Certs()
    yield served
    served.server.shutdown()


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """No warehouse (nothing here runs a phase), and dq.toml allowing PUSHER to push."""
    config = tmp_path / "auth.toml"
    text = (PROJECT_ROOT / "dq.toml").read_text()
    config.write_text(text.replace("allowed_service_accounts = []", f'allowed_service_accounts = ["{PUSHER}"]'))
    return make_workspace(tmp_path, tmp_path / "never-opened.duckdb")


def config_env(workspace: Workspace) -> dict[str, str]:
    return {"NBA_DQ_CONFIG": str(workspace.root / "auth.toml"), "NBA_DQ_PUSH_AUDIENCE": AUDIENCE}


def service(workspace: Workspace, certs: Certs) -> Service:
    """Auth on (the Service helper turns it off by default), Google's verifier against the local certs."""
    env = {**config_env(workspace), "NBA_DQ_PUSH_AUTH": "on"}
    return Service(workspace, env=env, verifier=google_verifier(AUDIENCE, certs_url=certs.url))


MALFORMED = envelope(b"{not json")  # answered without a run: what is checked is who may push


def test_a_good_token_is_let_through(workspace: Workspace, certs: Certs) -> None:
    status, answer = service(workspace, certs).post(MALFORMED, {"Authorization": f"Bearer {certs.token()}"})
    assert (status, answer["outcome"]) == (200, "malformed")


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ({}, "no bearer token"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "no bearer token"),
        ({"Authorization": "Bearer not.a.jwt"}, "token not valid"),
    ],
    ids=["missing", "not-bearer", "garbage"],
)
def test_a_request_without_a_valid_token_is_403(
    workspace: Workspace, certs: Certs, headers: dict[str, str], why: str
) -> None:
    status, answer = service(workspace, certs).post(MALFORMED, headers)
    assert (status, answer["outcome"]) == (403, "forbidden") and why in answer["error"]


@pytest.mark.parametrize(
    ("claims", "why"),
    [
        ({"aud": "https://someone-else.run.app/"}, "token not valid"),
        ({"email": "intruder@evil-project.iam.gserviceaccount.com"}, "not in [service] allowed_service_accounts"),
        ({"email_verified": False}, "email is not verified"),
        ({"iss": "https://evil.example.com"}, "is not Google's"),
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "token not valid"),
    ],
    ids=["wrong-audience", "email-not-allowed", "email-unverified", "wrong-issuer", "expired"],
)
def test_a_token_google_would_not_vouch_for_here_is_403(
    workspace: Workspace, certs: Certs, claims: dict[str, Any], why: str
) -> None:
    status, answer = service(workspace, certs).post(MALFORMED, {"Authorization": f"Bearer {certs.token(**claims)}"})
    assert (status, answer["outcome"]) == (403, "forbidden") and why in answer["error"]
    assert service(workspace, certs).store.list("messages/") == []  # refused before the message was read


def test_a_token_signed_by_another_key_is_403(workspace: Workspace, certs: Certs) -> None:
    forged = Certs()
    try:
        token = forged.token()
    finally:
        forged.server.shutdown()
    status, answer = service(workspace, certs).post(MALFORMED, {"Authorization": f"Bearer {token}"})
    assert (status, answer["outcome"]) == (403, "forbidden")


@pytest.mark.parametrize(
    ("env", "refusal"),
    [
        ({"NBA_DQ_PUSH_AUTH": "off"}, "NBA_DQ_PUSH_AUTH=off is refused"),
        ({"NBA_DQ_PUSH_AUDIENCE": ""}, "[service] audience is empty"),
        ({"NBA_DQ_STATE_URL": ""}, "set NBA_DQ_STATE_URL to a gs:// prefix"),
        ({"SLACK_WEBHOOK_URL": ""}, "no Slack destination"),
    ],
    ids=["auth-off", "no-audience", "local-state", "no-slack"],
)
def test_production_refuses_to_serve_unsafely_in_one_line_exit_2(
    workspace: Workspace, env: dict[str, str], refusal: str
) -> None:
    production = {
        "NBA_DQ_ENV": "production",
        "NBA_DQ_PUSH_AUDIENCE": AUDIENCE,
        "NBA_DQ_STATE_URL": "gs://nba-dq-state/state",
        "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/x",
    }
    result = workspace.cli("serve", env={**config_env(workspace), **production, **env})
    assert result.code == 2 and refusal in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_the_token_check_without_an_audience_is_refused_at_start_not_as_403s(workspace: Workspace) -> None:
    result = workspace.cli("serve", env={**config_env(workspace), "NBA_DQ_PUSH_AUDIENCE": ""})
    assert result.code == 2 and "[service] audience is empty" in result.err and "NBA_DQ_PUSH_AUTH=off" in result.err


def test_googles_certificates_are_kept_and_fetched_again_on_a_rotation_at_most_once_a_minute() -> None:
    served, now = Certs(), [1000.0]
    try:
        verify = google_verifier(AUDIENCE, certs_url=served.url, clock=lambda: now[0])
        for _ in range(3):
            assert verify(served.token())["email"] == PUSHER
        assert served.fetches == 1  # not once per push
        rotated = Certs("test-key-2")  # Google signs with a new key, published at the same address
        served.document = rotated.document
        now[0] += 61
        assert verify(rotated.token())["email"] == PUSHER and served.fetches == 2
        forged = Certs("unknown-key")  # unknown keys within the minute: refused without fetching again
        for _ in range(3):
            with pytest.raises(ValueError, match="key id"):
                verify(forged.token())
            now[0] += 10
        assert served.fetches == 2
        now[0] += 3600  # the kept certificates' age is up: fetched again
        verify(rotated.token())
        assert served.fetches == 3
        rotated.server.shutdown()
        forged.server.shutdown()
    finally:
        served.server.shutdown()
