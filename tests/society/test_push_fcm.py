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
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest

from app.platform.config import ConfigError, Settings, load_settings
from app.platform.db import Database
from tests.conftest import RunningServer
from tests.fcm import PROJECT_ID, LocalGoogle, local_google
from tests.helpers import Api, User, visitor_jobs_left
from tests.society.conftest import Gate, walk_in


@dataclass
class Fcm:
    google: LocalGoogle
    server: RunningServer


@pytest.fixture(scope="module")
async def fcm(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Fcm]:
    """A local Google, and a Gatehouse server whose pushes go through firebase-admin to it."""
    async with local_google(tmp_path_factory.mktemp("fcm")) as (google, push_settings):
        server = RunningServer(replace(settings, **push_settings, allow_insecure_dev=True, run_jobs=True))
        await server.start()
        try:
            yield Fcm(google, server)
        finally:
            await server.stop()


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
    assert await visitor_jobs_left(db, visitor["id"]) == 0  # the job is done, and nothing else waits


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
    assert await visitor_jobs_left(db, visitor["id"]) == 0
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
