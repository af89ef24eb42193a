"""Per-user limits on what costs money or reaches a stranger (invite codes by SMS/WhatsApp) and on
what an admin must read (requests to join a flat)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest

from tests.conftest import RunningServer
from tests.helpers import Api
from tests.society.conftest import Gate


@pytest.fixture(scope="module")
async def strict(settings) -> AsyncIterator[Api]:
    server = RunningServer(replace(settings, rate_limit_invites="2/hour", rate_limit_resident_requests="2/day"))
    await server.start()
    async with httpx.AsyncClient(base_url=server.url, timeout=15) as client:
        yield Api(client, server.url)
    await server.stop()


async def test_invite_messages_are_limited_per_resident(strict: Api, gate: Gate) -> None:
    expected_at = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=3)).isoformat()
    body = {"flat_id": gate.flat, "name": "Aunt", "phone": "+91 98450 33333", "expected_at": expected_at}
    invited = (await strict.post("/v1/visitors", body, gate.resident)).json()
    path = f"/v1/visitors/{invited['id']}/send-invite"
    answers = [(await strict.post(path, {"channel": "sms"}, gate.resident)).status_code for _ in range(3)]
    assert answers == [202, 202, 429]
    # The housemate has a limit of their own.
    assert (await strict.post(path, {"channel": "sms"}, gate.housemate)).status_code == 202


async def test_requests_to_join_a_flat_are_limited_per_user(strict: Api, admin, api: Api) -> None:
    society = await api.society(admin, flats=3)
    asker = await strict.signup("Newcomer")
    answers = [
        (await strict.post("/v1/resident-requests", {"flat_id": flat, "relation": "tenant"}, asker)).status_code
        for flat in society.flats
    ]
    assert answers == [201, 201, 429]
