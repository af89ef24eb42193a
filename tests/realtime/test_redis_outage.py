"""Redis going away under two workers and coming back (#13): requests go on meanwhile, and the events
they commit reach sockets on the other worker once Redis is back, with no reconnect and nobody acting:
the worker that could not hear Redis delivers what was written meanwhile from the outbox, in order."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator

import httpx
import pytest

from app.platform.config import Settings
from tests.conftest import free_port
from tests.helpers import Api, User, connect
from tests.realtime.conftest import start_workers, stop_workers


class OwnRedis:
    """A redis-server of the test's own, never the machine's shared one, to kill and start again."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("this test needs redis-server (Debian's redis-server package)")
        self.binary = binary
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    redis = OwnRedis()
    redis.start()
    yield redis
    redis.kill()


async def test_events_written_while_redis_is_down_reach_the_other_worker_once_it_is_back(
    settings: Settings, own_redis: OwnRedis, api: Api, admin: User
) -> None:
    society = await api.society(admin, flats=1)
    guard, resident = await api.signup("Outage Guard"), await api.signup("Outage Resident")
    await api.grant(admin, guard, "guard", "society", society.id)
    await api.grant(admin, resident, "resident", "flat", society.flats[0])

    gate_worker, home_worker = await start_workers(settings, 2, REDIS_URL=own_redis.url)
    try:
        gate = await connect(gate_worker.url, guard.access_token)
        phone = await connect(home_worker.url, resident.access_token)
        assert (await gate.join("society", society.id))["ok"] is True
        assert (await phone.join("flat", society.flats[0]))["ok"] is True
        async with httpx.AsyncClient(base_url=gate_worker.url, timeout=10) as at_gate:
            own_redis.kill()
            made = []
            for name in ("During the outage 1", "During the outage 2"):
                answer = await at_gate.post(
                    "/v1/visitors", json={"flat_id": society.flats[0], "name": name}, headers=guard.headers
                )
                assert answer.status_code == 201, answer.text
                made.append(answer.json()["id"])
            own_redis.start()
            heard = await phone.wait_for("visitor_request", count=2, timeout=15)
            assert [e["data"]["id"] for e in heard] == made, "both, in order, on the other worker"
            assert phone.client.connected and gate.client.connected, "nobody had to reconnect"

        async with httpx.AsyncClient(base_url=home_worker.url, timeout=10) as at_home:
            answer = await at_home.post(
                f"/v1/visitors/{made[0]}/respond", json={"decision": "approve"}, headers=resident.headers
            )
            assert answer.status_code == 200, answer.text
        (approved,) = await gate.wait_for("request_approved", timeout=10)
        assert approved["data"]["id"] == made[0], "live across the workers again"
        await gate.close()
        await phone.close()
    finally:
        stop_workers([gate_worker, home_worker])
