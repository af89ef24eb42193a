"""Unanswered requests are escalated to the gate once, by exactly one worker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest

from tests.conftest import RunningServer
from tests.helpers import Api, connect, settle
from tests.realtime.conftest import start_workers, stop_workers
from tests.society.conftest import Gate, walk_in

FAST = {"visitor_escalate_after": 0.5, "escalation_interval": 0.1, "run_jobs": True}


@pytest.fixture(scope="module")
async def fast_server(settings) -> AsyncIterator[RunningServer]:
    server = RunningServer(replace(settings, **FAST))
    await server.start()
    yield server
    await server.stop()


async def _escalations(db, visitor_id: str) -> int:
    async with db.connection() as conn:
        return await conn.fetchval(
            "SELECT count(*) FROM events WHERE type = 'request_escalated' AND data->>'id' = $1", visitor_id
        )


async def test_an_unanswered_request_is_escalated_once_and_stays_pending(api: Api, gate: Gate, fast_server, db) -> None:
    guard = await connect(fast_server.url, gate.guard.access_token)
    try:
        assert (await guard.join("society", gate.society.id))["ok"] is True
        async with httpx.AsyncClient(base_url=fast_server.url) as client:
            fast = Api(client, fast_server.url)
            visitor = await walk_in(fast, gate, "Nobody Home")
        (escalated,) = await guard.wait_for("request_escalated", timeout=10)
        assert escalated["data"]["id"] == visitor["id"]
        assert escalated["data"]["status"] == "pending" and escalated["data"]["escalated_at"] is not None
        await settle(1.0)  # several more sweeps
        assert len(guard.of("request_escalated")) == 1
        assert await _escalations(db, visitor["id"]) == 1
        # Still answerable after the escalation.
        late = await api.post(f"/v1/visitors/{visitor['id']}/respond", {"decision": "approve"}, gate.resident)
        assert late.status_code == 200
    finally:
        await guard.close()


async def test_an_answered_request_is_never_escalated(api: Api, gate: Gate, fast_server, db) -> None:
    async with httpx.AsyncClient(base_url=fast_server.url) as client:
        fast = Api(client, fast_server.url)
        visitor = await walk_in(fast, gate, "Quick Answer")
        answer = await fast.post(f"/v1/visitors/{visitor['id']}/respond", {"decision": "deny"}, gate.resident)
    assert answer.status_code == 200
    await settle(1.2)
    assert await _escalations(db, visitor["id"]) == 0


async def test_with_several_workers_each_escalation_fires_once(settings, api: Api, gate: Gate, db) -> None:
    workers = await start_workers(
        settings, 3, VISITOR_ESCALATE_AFTER="0.3", ESCALATION_INTERVAL="0.05", RUN_JOBS="true"
    )
    try:
        async with httpx.AsyncClient(base_url=workers[0].url) as client:
            fast = Api(client, workers[0].url)
            visitors = await asyncio.gather(*(walk_in(fast, gate, f"Crowd {i}") for i in range(10)))
        await settle(1.5)
        counts = [await _escalations(db, v["id"]) for v in visitors]
        assert counts == [1] * 10
    finally:
        stop_workers(workers)
