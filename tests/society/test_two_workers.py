"""The visitor flow with the guard and the resident on different server processes."""

from __future__ import annotations

import httpx

from tests.helpers import Api, connect
from tests.realtime.conftest import start_workers, stop_workers
from tests.society.conftest import Gate


async def test_guard_on_one_worker_and_resident_on_another(settings, gate: Gate) -> None:
    workers = await start_workers(settings, 2)
    gate_worker, home_worker = workers
    guard = await connect(gate_worker.url, gate.guard.access_token)
    resident = await connect(home_worker.url, gate.resident.access_token)
    try:
        assert (await guard.join("society", gate.society.id))["ok"] is True
        assert (await resident.join("flat", gate.flat))["ok"] is True
        async with (
            httpx.AsyncClient(base_url=gate_worker.url) as at_gate,
            httpx.AsyncClient(base_url=home_worker.url) as at_home,
        ):
            gate_api, home_api = Api(at_gate, gate_worker.url), Api(at_home, home_worker.url)
            created = await gate_api.post("/v1/visitors", {"flat_id": gate.flat, "name": "Cross Worker"}, gate.guard)
            assert created.status_code == 201
            (request,) = await resident.wait_for("visitor_request")
            visitor_id = request["data"]["id"]
            answer = await home_api.post(f"/v1/visitors/{visitor_id}/respond", {"decision": "approve"}, gate.resident)
            assert answer.status_code == 200
            (approved,) = await guard.wait_for("request_approved")
            assert approved["data"]["id"] == visitor_id
            checkin = await gate_api.post("/v1/visits/checkin", {"visitor_id": visitor_id}, gate.guard)
            assert checkin.status_code == 201
            (arrived,) = await resident.wait_for("visitor_checked_in")
            assert arrived["data"]["visitor_id"] == visitor_id
    finally:
        await guard.close()
        await resident.close()
        stop_workers(workers)
