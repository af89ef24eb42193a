"""Realtime fixtures: a publisher outside the server (as a script would be) and
a pair of real worker processes sharing one PostgreSQL and one Redis.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from app.platform.config import Settings
from app.platform.db import Database
from app.platform.realtime.hub import OrjsonCodec
from app.platform.realtime.manager import FanoutRedisManager
from app.platform.realtime.outbox import Outbox
from tests.conftest import free_port


@pytest.fixture(scope="session")
async def outbox_db(settings: Settings) -> AsyncIterator[Database]:
    """A Database of its own for `outbox`, as a script beside the servers would have."""
    assert settings.database_url is not None
    database = Database(settings.database_url, min_size=1, max_size=4)
    await database.open()
    yield database
    await database.close()


def outbox_on(settings: Settings, database: Database) -> Outbox:
    """An outbox writing through `database` that emits through a write-only Redis manager."""
    manager = FanoutRedisManager(
        settings.redis_url, channel=f"{settings.redis_prefix}:socketio", write_only=True, json=OrjsonCodec
    )
    return Outbox(database, manager, grace=1.0, retention_days=7)


@pytest.fixture(scope="session")
def outbox(settings: Settings, outbox_db: Database) -> Outbox:
    return outbox_on(settings, outbox_db)


@dataclass
class Worker:
    url: str
    process: subprocess.Popen


async def start_workers(settings: Settings, count: int, **env: str) -> list[Worker]:
    base_env = {**os.environ, **settings.as_env(), "LOG_LEVEL": "warning", **env}
    workers = []
    for _ in range(count):
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)], env=base_env
        )
        workers.append(Worker(f"http://127.0.0.1:{port}", process))
    async with httpx.AsyncClient() as client:
        for worker in workers:
            for _ in range(200):
                if worker.process.poll() is not None:
                    raise RuntimeError(f"worker on {worker.url} exited with {worker.process.returncode}")
                try:
                    if (await client.get(worker.url + "/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
    return workers


def stop_workers(workers: list[Worker]) -> None:
    for worker in workers:
        worker.process.terminate()
    for worker in workers:
        assert worker.process.wait(timeout=15) == 0, "a worker did not shut down cleanly on SIGTERM"


@pytest.fixture(scope="module")
async def workers(settings: Settings) -> AsyncIterator[list[Worker]]:
    started = await start_workers(settings, 2)
    yield started
    stop_workers(started)
