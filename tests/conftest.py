"""Test fixtures: real PostgreSQL and Redis, a real server, real clients.

PostgreSQL and Redis come from DATABASE_URL / REDIS_URL when set (CI), or
are started embedded for the run. Each run gets its own database and its own
Redis key and channel prefix, so runs never collide.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import socket
import tempfile
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
import uvicorn

from app.identity.service import create_admin
from app.main import create_app
from app.platform.config import Settings
from app.platform.db import Database
from app.platform.migrations import migrate
from app.platform.security.passwords import Passwords
from tests.helpers import Api, User

pytest_plugins = ["tests.gateway"]

JWT_SECRET = "test-secret-" + "x" * 40


@dataclass(frozen=True)
class Services:
    admin_database_url: str
    database_url: str
    redis_url: str
    prefix: str


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def services() -> AsyncIterator[Services]:
    embedded = None
    database_url = os.environ.get("DATABASE_URL")
    redis_url = os.environ.get("REDIS_URL")
    if not database_url or not redis_url:
        from app.platform.embedded import EmbeddedServices

        embedded_dir = Path(tempfile.mkdtemp(prefix="gatehouse-test-"))
        embedded = EmbeddedServices(embedded_dir)
        database_url, redis_url = embedded.start()
    name = f"gatehouse_test_{secrets.token_hex(4)}"

    async def create() -> None:
        conn = await asyncpg.connect(database_url)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        await migrate(_with_database(database_url, name))

    async def drop() -> None:
        conn = await asyncpg.connect(database_url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(create())
    try:
        yield Services(database_url, _with_database(database_url, name), redis_url, f"ghtest{secrets.token_hex(4)}")
    finally:
        asyncio.run(drop())
        if embedded is not None:
            embedded.stop(shared=False)  # the run's own servers: stop them even if a client lingers
            shutil.rmtree(embedded_dir, ignore_errors=True)  # and their data, some 70 MB a run


@pytest.fixture(scope="session")
def settings(services: Services, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        database_url=services.database_url,
        data_dir=tmp_path_factory.mktemp("data"),  # uploaded images land here
        redis_url=services.redis_url,
        jwt_secret=JWT_SECRET,
        cookie_secure=False,
        rate_limit_general="100000/minute",
        rate_limit_auth="100000/minute",
        rate_limit_account="100000/minute",
        rate_limit_reset_emails="100000/minute",
        rate_limit_invites="100000/minute",
        rate_limit_resident_requests="100000/minute",
        redis_prefix=services.prefix,
        log_level="warning",
        log_format="json",
        event_relay_interval=0.3,
        event_relay_grace=1.0,
        escalation_interval=0.2,
        job_poll_interval=0.1,
        # The session's server runs no jobs: a test that needs them starts a server that does, so which
        # server's configuration (pusher, notifier) runs a job is never left to chance.
        run_jobs=False,
        # Tests send bursts of socket events on purpose; the limits have their own tests and server.
        socket_events_per_second=1000.0,
        socket_event_burst=1000,
        socket_connects_per_second=10000.0,
        socket_connect_burst=10000,
        rate_limit_syncs="100000/minute",
        rate_limit_uploads="100000/minute",
        migrate_on_start=False,
        db_pool_min=1,
        db_pool_max=10,
        # Argon2 near its floor: a test signs people up and in by the hundred, and the production cost (64 MiB,
        # 3 passes: about 0.17 s a hash here) would be a third of the suite. Its defaults have their own test.
        password_hash_memory_kib=64,
        password_hash_iterations=1,
        allow_insecure_dev=True,
    )


class RunningServer:
    """A real uvicorn server in the test loop, on a free port."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(settings),
            host="127.0.0.1",
            port=self.port,
            log_config=None,
            lifespan="on",
            ws="app.platform.realtime.websocket:WebSocketProtocol",  # as `gatehouse serve`
            access_log=False,
            proxy_headers=False,  # as `gatehouse serve`: only TRUSTED_PROXIES may name the client IP
            ws_per_message_deflate=False,  # as `gatehouse serve`
        )
        self._server = uvicorn.Server(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        self._server.should_exit = True
        if self._task is not None:
            await self._task


@pytest.fixture(scope="session")
async def server(settings: Settings) -> AsyncIterator[RunningServer]:
    running = RunningServer(settings)
    await running.start()
    yield running
    await running.stop()


@pytest.fixture(scope="session")
async def db(settings: Settings) -> AsyncIterator[Database]:
    """Direct database access, for checking what the server stored."""
    assert settings.database_url is not None
    database = Database(settings.database_url, min_size=1, max_size=4)
    await database.open()
    yield database
    await database.close()


@pytest.fixture
async def api(server: RunningServer) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=server.url, timeout=15) as client:
        yield Api(client, server.url)


@pytest.fixture(scope="session")
def passwords(settings: Settings) -> Passwords:
    return Passwords.configured(settings)


@pytest.fixture(scope="session")
async def admin_credentials(db: Database, passwords: Passwords) -> tuple[str, str]:
    email = f"admin-{uuid.uuid4().hex[:8]}@example.com"
    password = "admin-password-1"
    await create_admin(db, passwords, email=email, password=password, name="Admin", reset_password=False)
    return email, password


@pytest.fixture
async def admin(api: Api, admin_credentials: tuple[str, str]) -> User:
    return await api.login(*admin_credentials)
