"""Push through Firebase Cloud Messaging, for real, against a local Google.

With FCM_CREDENTIALS set, a guard's walk-in request is pushed to the flat's
residents' phones by firebase-admin itself: nothing here mocks firebase-admin,
the database or Redis. Instead the service-account file this module writes
points google-auth's `token_uri` at a local aiohttp server, and FCM_ENDPOINT
points firebase-admin's send URL at the same server. So every real step runs:
google-auth signs a JWT assertion with our RSA key and trades it for an access
token, firebase-admin sends one FCM v1 `messages:send` request per device with
that token as its Bearer, and turns FCM's error answers into its own
exceptions. The local server checks the assertion, records what was sent and
answers as Google does, including the 404 UNREGISTERED a stale phone gets.

A second Gatehouse server with these settings runs beside the session's
server, on the same database and Redis (as a second worker would). firebase-
admin keeps process-wide state (its named app and the class-level FCM_URL);
the module's teardown puts both back so other tests never see them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import firebase_admin
import httpx
import jwt
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from firebase_admin import messaging

from app.platform.config import ConfigError, Settings, load_settings
from app.platform.db import Database
from tests.conftest import RunningServer
from tests.helpers import Api, User
from tests.society.conftest import Gate, walk_in

PROJECT_ID = "gatehouse-push-test"
FIREBASE_APP = "gatehouse-fcm"
# google-auth always names Google's token endpoint as the assertion's audience, wherever token_uri points.
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"

QUOTA_EXCEEDED = {
    "error": {
        "code": 429,
        "message": "Quota exceeded for the device.",
        "status": "RESOURCE_EXHAUSTED",
        "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "QUOTA_EXCEEDED"}],
    }
}
UNREGISTERED = {
    "error": {
        "code": 404,
        "message": "Requested entity was not found.",
        "status": "NOT_FOUND",
        "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED"}],
    }
}


@dataclass
class LocalGoogle:
    """Google's OAuth token endpoint and FCM's v1 send endpoint, on one local port."""

    public_key: Any
    client_email: str
    access_token: str = field(default_factory=lambda: "ya29.local-" + secrets.token_hex(16))
    url: str = ""
    token_requests: list[dict[str, Any]] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)  # {"project", "authorization", "body"}

    @property
    def token_uri(self) -> str:
        return f"{self.url}/token"

    async def token(self, request: web.Request) -> web.Response:
        """The JWT-bearer grant: only an assertion signed with our service account's key gets a token."""
        form = await request.post()
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        try:
            claims = jwt.decode(
                str(form.get("assertion")),
                self.public_key,
                algorithms=["RS256"],
                audience=GOOGLE_TOKEN_AUDIENCE,
                issuer=self.client_email,
                options={"require": ["iat", "exp", "scope"]},
            )
        except jwt.InvalidTokenError as exc:
            return web.json_response({"error": "invalid_grant", "error_description": str(exc)}, status=400)
        self.token_requests.append(claims)
        return web.json_response({"access_token": self.access_token, "expires_in": 3600, "token_type": "Bearer"})

    async def send(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.sent.append(
            {
                "project": request.match_info["project"],
                "authorization": request.headers.get("Authorization"),
                "body": body,
            }
        )
        token = body["message"].get("token", "")
        if "unregistered" in token:
            return web.json_response(UNREGISTERED, status=404)
        if "over-quota-once" in token and len(self.messages_to(token)) == 1:
            return web.json_response(QUOTA_EXCEEDED, status=429)
        return web.json_response({"name": f"projects/{request.match_info['project']}/messages/{len(self.sent)}"})

    def messages_for(self, visitor_id: str) -> list[dict[str, Any]]:
        return [s for s in self.sent if s["body"]["message"].get("data", {}).get("visitor_id") == visitor_id]

    def messages_to(self, token: str) -> list[dict[str, Any]]:
        return [s for s in self.sent if s["body"]["message"].get("token") == token]


@dataclass
class Fcm:
    google: LocalGoogle
    server: RunningServer


def _service_account(directory: Path, google: LocalGoogle, key: rsa.RSAPrivateKey) -> Path:
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    path = directory / "service-account.json"
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": PROJECT_ID,
                "private_key_id": secrets.token_hex(20),
                "private_key": pem,
                "client_email": google.client_email,
                "client_id": "1234567890",
                "token_uri": google.token_uri,
            }
        )
    )
    return path


@pytest.fixture(scope="module")
async def fcm(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Fcm]:
    """A local Google, and a Gatehouse server whose pushes go through firebase-admin to it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    google = LocalGoogle(key.public_key(), f"push@{PROJECT_ID}.iam.gserviceaccount.com")
    web_app = web.Application()
    web_app.router.add_post("/token", google.token)
    web_app.router.add_post("/v1/projects/{project}/messages:send", google.send)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    google.url = f"http://127.0.0.1:{port}"

    credentials = _service_account(tmp_path_factory.mktemp("fcm"), google, key)
    original_fcm_url = messaging._MessagingService.FCM_URL
    server: RunningServer | None = None
    try:
        server = RunningServer(
            replace(
                settings,
                fcm_credentials=str(credentials),
                fcm_endpoint=f"{google.url}/v1/projects/{{0}}/messages:send",
                allow_insecure_dev=True,
                run_jobs=True,
            )
        )
        await server.start()
        yield Fcm(google, server)
    finally:
        if server is not None:
            await server.stop()
        messaging._MessagingService.FCM_URL = original_fcm_url
        with contextlib.suppress(ValueError):  # ValueError: the server never got as far as creating it
            # Off the loop: closing the app's messaging service calls asyncio.run() itself.
            await asyncio.to_thread(firebase_admin.delete_app, firebase_admin.get_app(FIREBASE_APP))
        await runner.cleanup()


@pytest.fixture
async def fcm_api(fcm: Fcm) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=fcm.server.url, timeout=15) as client:
        yield Api(client, fcm.server.url)


async def _register(api: Api, user: User, token: str, platform: str = "android") -> None:
    response = await api.post("/v1/guards/register-device", {"fcm_token": token, "platform": platform}, user)
    assert response.status_code == 204, response.text


async def _push_logs(db: Database, visitor_id: str, *, expect: int) -> list[dict[str, Any]]:
    """The visitor's push rows, once `expect` of them are there (up to ~5 s: the push runs after the response)."""
    for _ in range(100):
        async with db.connection() as conn:
            rows = await conn.fetch(
                """SELECT user_id, channel, target, template, resource_type, resource_id, outcome, error
                   FROM notification_logs WHERE resource_id = $1 ORDER BY id""",
                visitor_id,
            )
        if len(rows) >= expect:
            return [dict(r) for r in rows]
        await asyncio.sleep(0.05)
    return [dict(r) for r in rows]


async def test_a_walk_in_is_pushed_through_fcm_to_the_flats_phones_and_each_attempt_is_logged(
    fcm: Fcm, fcm_api: Api, gate: Gate, db: Database
) -> None:
    run = uuid.uuid4().hex
    resident_token = f"fcm-ok-{run}-{gate.resident.id}"
    housemate_token = f"fcm-unregistered-{run}-{gate.housemate.id}"
    neighbour_token = f"fcm-ok-{run}-{gate.neighbour.id}"
    await _register(fcm_api, gate.resident, resident_token)
    await _register(fcm_api, gate.housemate, housemate_token, "ios")
    await _register(fcm_api, gate.neighbour, neighbour_token)

    visitor = await walk_in(fcm_api, gate, "Ramesh Kumar")

    rows = await _push_logs(db, visitor["id"], expect=2)
    assert len(rows) == 2, rows
    by_user = {str(r["user_id"]): r for r in rows}
    assert set(by_user) == {gate.resident.id, gate.housemate.id}
    assert {r["outcome"] for r in rows} == {"sent", "failed"}
    for row in rows:
        assert (row["channel"], row["template"], row["resource_type"], row["resource_id"]) == (
            "push",
            "visitor_request",
            "visitor",
            visitor["id"],
        )
    sent, failed = by_user[gate.resident.id], by_user[gate.housemate.id]
    assert (sent["outcome"], sent["target"], sent["error"]) == ("sent", resident_token[-16:], None)
    assert (failed["outcome"], failed["target"]) == ("failed", housemate_token[-16:])
    assert failed["error"] and "not found" in failed["error"].lower()

    # What reached "FCM": one message per flat token, signed in with the token our endpoint issued.
    messages = fcm.google.messages_for(visitor["id"])
    assert sorted(m["body"]["message"]["token"] for m in messages) == sorted([resident_token, housemate_token])
    for m in messages:
        assert m["project"] == PROJECT_ID
        assert m["authorization"] == f"Bearer {fcm.google.access_token}"
        message = m["body"]["message"]
        assert "validate_only" not in m["body"]
        assert "Ramesh Kumar" in message["notification"]["title"] + message["notification"]["body"]
        assert message["data"]["visitor_id"] == visitor["id"]
        assert message["data"]["type"] == "visitor_request"
        assert message["data"]["flat_id"] == gate.flat
    assert fcm.google.messages_to(neighbour_token) == []
    # FCM said the housemate's app is gone: that token is forgotten, the others stay.
    async with db.connection() as conn:
        kept = {
            r["token"]
            for r in await conn.fetch(
                "SELECT token FROM device_tokens WHERE token = ANY($1::text[])",
                [resident_token, housemate_token, neighbour_token],
            )
        }
    assert kept == {resident_token, neighbour_token}
    # google-auth really did the JWT-bearer exchange, as our service account.
    assert fcm.google.token_requests
    assert all(c["iss"] == fcm.google.client_email for c in fcm.google.token_requests)


async def test_a_flat_without_registered_phones_gets_no_push_and_no_log(
    fcm: Fcm, fcm_api: Api, gate: Gate, db: Database
) -> None:
    # Only the neighbour (the other flat) has a phone; the walk-in for it is the marker
    # that the server's push work for the first, phoneless, flat has run before it.
    neighbour_token = f"fcm-ok-{uuid.uuid4().hex}-{gate.neighbour.id}"
    await _register(fcm_api, gate.neighbour, neighbour_token)

    quiet = await walk_in(fcm_api, gate, "Nobody Home")
    marker = await walk_in(fcm_api, gate, "Marker", flat_id=gate.other_flat)

    marker_rows = await _push_logs(db, marker["id"], expect=1)
    assert [(str(r["user_id"]), r["outcome"]) for r in marker_rows] == [(gate.neighbour.id, "sent")]
    async with db.connection() as conn:
        quiet_rows = await conn.fetch("SELECT id FROM notification_logs WHERE resource_id = $1", quiet["id"])
    assert quiet_rows == []
    assert fcm.google.messages_for(quiet["id"]) == []
    assert [m["body"]["message"]["token"] for m in fcm.google.messages_for(marker["id"])] == [neighbour_token]


async def test_a_push_fcm_could_not_take_is_retried_by_a_job_until_it_is_sent(
    fcm: Fcm, fcm_api: Api, gate: Gate, db: Database
) -> None:
    token = f"fcm-over-quota-once-{uuid.uuid4().hex}-{gate.resident.id}"
    await _register(fcm_api, gate.resident, token)
    visitor = await walk_in(fcm_api, gate, "Retry Me")

    rows = await _push_logs(db, visitor["id"], expect=2)
    assert [(r["outcome"], str(r["user_id"])) for r in rows] == [
        ("failed", gate.resident.id),
        ("sent", gate.resident.id),
    ]
    assert "quota" in rows[0]["error"].lower()
    assert len(fcm.google.messages_to(token)) == 2
    async with db.connection() as conn:  # the job is done, and nothing else waits
        left = await conn.fetchval("SELECT count(*) FROM jobs WHERE payload->>'visitor_id' = $1", visitor["id"])
    assert left == 0


async def test_a_retry_for_a_request_answered_meanwhile_sends_nothing(
    fcm: Fcm, fcm_api: Api, gate: Gate, db: Database
) -> None:
    token = f"fcm-over-quota-once-{uuid.uuid4().hex}-{gate.resident.id}"
    await _register(fcm_api, gate.resident, token)
    visitor = await walk_in(fcm_api, gate, "Answered Quickly")
    (first,) = await _push_logs(db, visitor["id"], expect=1)
    assert first["outcome"] == "failed"
    answer = await fcm_api.post(f"/v1/visitors/{visitor['id']}/respond", {"decision": "approve"}, gate.resident)
    assert answer.status_code == 200

    async def retry_done() -> bool:
        async with db.connection() as conn:
            return not await conn.fetchval("SELECT count(*) FROM jobs WHERE payload->>'visitor_id' = $1", visitor["id"])

    for _ in range(100):
        if await retry_done():
            break
        await asyncio.sleep(0.05)
    assert await retry_done()
    assert len(fcm.google.messages_to(token)) == 1
    assert len(await _push_logs(db, visitor["id"], expect=1)) == 1


def test_fcm_endpoint_without_allow_insecure_dev_is_refused() -> None:
    env = {
        "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/postgres",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "JWT_SECRET": "s" * 40,
        "FCM_CREDENTIALS": "/nonexistent/service-account.json",
        "FCM_ENDPOINT": "http://127.0.0.1:9/v1/projects/{0}/messages:send",
    }
    with pytest.raises(ConfigError, match="FCM_ENDPOINT"):
        load_settings(env)
    allowed = load_settings({**env, "ALLOW_INSECURE_DEV": "true"})
    assert allowed.fcm_endpoint == env["FCM_ENDPOINT"]
