"""PostgreSQL failing under a running server (#13): connections cut by the server side are replaced by the
pool by itself, and a database that refuses more connections makes requests fail fast with a clear 503,
never a 500, and the server carries on once it can connect again."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest

from app.platform.config import Settings
from tests.conftest import RunningServer
from tests.helpers import Api, User, connect


@pytest.fixture
async def own_server(settings: Settings) -> AsyncIterator[RunningServer]:
    running = RunningServer(settings)
    await running.start()
    yield running
    await running.stop()


async def _cut_every_connection(settings: Settings) -> int:
    """What `pg_terminate_backend` does to a server's connections when an operator (or a failover) ends
    them: every Gatehouse connection to this database, whoever's pool holds it."""
    assert settings.database_url is not None
    conn = await asyncpg.connect(settings.database_url)
    try:
        return await conn.fetchval(
            """SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
               WHERE datname = current_database() AND application_name = 'gatehouse' AND pid <> pg_backend_pid()"""
        )
    finally:
        await conn.close()


async def test_cut_connections_are_replaced_and_nothing_is_lost(
    own_server: RunningServer, settings: Settings, api: Api, admin: User
) -> None:
    society = await api.society(admin, flats=1)
    guard, resident = await api.signup("Cut Guard"), await api.signup("Cut Resident")
    await api.grant(admin, guard, "guard", "society", society.id)
    await api.grant(admin, resident, "resident", "flat", society.flats[0])
    async with httpx.AsyncClient(base_url=own_server.url, timeout=10) as client:
        assert (await client.get("/v1/profile/me", headers=guard.headers)).status_code == 200
        phone = await connect(own_server.url, resident.access_token)
        try:
            assert (await phone.join("flat", society.flats[0]))["ok"] is True
            assert await _cut_every_connection(settings) >= 1

            answers = await asyncio.gather(
                *(client.get("/v1/profile/me", headers=guard.headers) for _ in range(20)),
                *(
                    client.post(
                        "/v1/visitors",
                        json={"flat_id": society.flats[0], "name": f"After the cut {n}"},
                        headers=guard.headers,
                    )
                    for n in range(5)
                ),
            )
            assert not [a for a in answers if a.status_code >= 500 and a.status_code != 503], [
                (a.status_code, a.text) for a in answers
            ]
            made = [a.json()["id"] for a in answers if a.status_code == 201]
            heard = {e["data"]["id"] for e in await phone.wait_for("visitor_request", count=len(made))}
            assert set(made) <= heard, "every visitor written after the cut reached the flat"
            assert (await client.get("/readyz")).status_code == 200
            again = await client.post(
                "/v1/visitors", json={"flat_id": society.flats[0], "name": "Later"}, headers=guard.headers
            )
            assert again.status_code == 201, "the pool is whole again"
        finally:
            await phone.close()


def _as_role(url: str, role: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{role}@{host}"))


@pytest.fixture
async def limited_role(settings: Settings) -> AsyncIterator[str]:
    """A login that PostgreSQL lets hold two connections at most (a superuser is never limited)."""
    assert settings.database_url is not None
    role = f"gh_limited_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(settings.database_url)
    try:
        await conn.execute(f"CREATE ROLE {role} LOGIN CONNECTION LIMIT 2 IN ROLE postgres")
        yield role
    finally:
        await conn.execute(f"""SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'""")
        await conn.execute(f"DROP ROLE IF EXISTS {role}")
        await conn.close()


async def test_a_full_database_is_a_clear_503_not_a_500(
    settings: Settings, limited_role: str, api: Api, admin: User
) -> None:
    assert settings.database_url is not None
    society = await api.society(admin, flats=1)
    full = RunningServer(replace(settings, database_url=_as_role(settings.database_url, limited_role), db_pool_min=1))
    await full.start()
    try:
        async with httpx.AsyncClient(base_url=full.url, timeout=10) as client:
            answers = await asyncio.gather(
                *(client.get("/v1/audit", headers=admin.headers, params={"limit": 100}) for _ in range(30))
            )
            statuses = {a.status_code for a in answers}
            assert statuses <= {200, 503}, statuses
            refused = [a for a in answers if a.status_code == 503]
            assert refused, "more requests at once than the database lets in"
            assert refused[0].json()["error"]["code"] == "database_unavailable"
            assert refused[0].headers["retry-after"] == "2"
            assert (await client.get("/v1/profile/me", headers=admin.headers)).status_code == 200, "it carries on"

        sockets = [await connect(full.url, admin.access_token) for _ in range(10)]
        try:
            for s in sockets:
                assert (await s.join("society", society.id))["ok"] is True
            room = {"room": f"society:{society.id}", "since": 0}
            syncs = await asyncio.gather(*(s.call("sync", room) for s in sockets))  # each reads the outbox
        finally:
            for s in sockets:
                await s.close()
        outcomes = {"ok" if ack["ok"] else ack["error"]["code"] for ack in syncs}
        assert outcomes == {"ok", "unavailable"}, syncs
    finally:
        await full.stop()
