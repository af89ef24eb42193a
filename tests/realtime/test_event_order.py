"""Writers of one room commit side by side, yet `sync` never skips an event that commits late, and no live
event goes out before every lower id of its room has committed (app.platform.realtime.outbox)."""

from __future__ import annotations

import asyncio
import datetime as dt

import asyncpg

from app.platform.config import Settings
from app.platform.db import Database
from app.platform.realtime.hub import OrjsonCodec
from app.platform.realtime.manager import FanoutRedisManager
from app.platform.realtime.outbox import Event, Outbox
from tests.conftest import free_port
from tests.helpers import Api, connect, settle


async def test_a_writer_half_way_holds_back_sync_and_later_events_but_not_other_writers(
    api: Api, server, outbox, outbox_db, db
) -> None:
    user = await api.signup()
    room = f"user:{user.id}"
    listener = await connect(server.url, user.access_token)
    drawn, release = asyncio.Event(), asyncio.Event()

    async def pause(_conn: asyncpg.Connection) -> None:  # after the events' rows, before the commit
        drawn.set()
        await release.wait()

    async def slow_writer() -> None:
        async with outbox_db.transaction() as tx:
            outbox.publish(tx, room, "step", {"n": 1})
            tx.before_commit(pause)

    async def quick_writer() -> None:
        async with outbox_db.transaction() as tx:
            outbox.publish(tx, room, "step", {"n": 2})

    async def committed() -> list[int]:
        async with db.connection() as conn:
            return [r["id"] for r in await conn.fetch("SELECT id FROM events WHERE room = $1 ORDER BY id", room)]

    slow = asyncio.create_task(slow_writer())
    try:
        await asyncio.wait_for(drawn.wait(), 5)
        quick = asyncio.create_task(quick_writer())
        # The second writer's row commits while the first is still open: writers do not queue on the lock.
        for _ in range(100):
            if await committed():
                break
            await asyncio.sleep(0.05)
        (later,) = await committed()
        # But it is not sent, and a sync does not answer, until the first writer (the lower id) commits.
        sync = asyncio.create_task(listener.call("sync", {"room": room, "since": 0}))
        await settle(0.5)
        assert listener.of("step") == [] and not sync.done() and not quick.done()
        release.set()
        await asyncio.wait_for(asyncio.gather(slow, quick), 5)
        reply = await sync
        assert reply["ok"] is True
        first, second = reply["events"]
        assert (first["data"], second["data"]) == ({"n": 1}, {"n": 2})
        assert first["event_id"] < second["event_id"] == later
        live = await listener.wait_for("step", 2)
        assert sorted(e["event_id"] for e in live) == [first["event_id"], later]
    finally:
        release.set()
        await asyncio.gather(slow, return_exceptions=True)
        await listener.close()


async def test_an_event_is_sent_even_when_its_barrier_cannot_reach_the_database(
    api: Api, server, settings: Settings
) -> None:
    """The rows have committed by the time the barrier runs: a database gone away since then delays nothing."""
    user = await api.signup()
    listener = await connect(server.url, user.access_token)
    gone = Database(f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere", min_size=0, max_size=1)
    await gone.open()
    manager = FanoutRedisManager(
        settings.redis_url, channel=f"{settings.redis_prefix}:socketio", write_only=True, json=OrjsonCodec
    )
    cut_off = Outbox(gone, manager, grace=1.0, retention_days=7)
    try:
        event = Event(2**62, "step", f"user:{user.id}", dt.datetime.now(dt.UTC), {"n": 3})
        await asyncio.wait_for(cut_off.emit_committed([event]), 5)
        (heard,) = await listener.wait_for("step")
        assert (heard["event_id"], heard["data"]) == (2**62, {"n": 3})
    finally:
        await gone.close()
        await listener.close()


async def test_sync_sees_what_committed_while_it_waited_whatever_the_servers_default_isolation(
    api: Api, outbox, outbox_db, settings: Settings
) -> None:
    """A database whose sessions default to repeatable read would read from the moment the lock was asked for."""
    user = await api.signup()
    room = f"user:{user.id}"
    assert settings.database_url is not None
    repeatable = Database(
        f"{settings.database_url}?default_transaction_isolation=repeatable%20read", min_size=1, max_size=1
    )
    await repeatable.open()
    reader = Outbox(repeatable, None, grace=1.0, retention_days=7)
    drawn, release = asyncio.Event(), asyncio.Event()

    async def pause(_conn: asyncpg.Connection) -> None:
        drawn.set()
        await release.wait()

    async def slow_writer() -> None:
        async with outbox_db.transaction() as tx:
            outbox.publish(tx, room, "step", {"n": 1})
            tx.before_commit(pause)

    async def quick_writer() -> None:
        async with outbox_db.transaction() as tx:
            outbox.publish(tx, room, "step", {"n": 2})

    async def committed() -> int:
        async with outbox_db.connection() as conn:
            return await conn.fetchval("SELECT count(*) FROM events WHERE room = $1", room)

    slow = asyncio.create_task(slow_writer())
    quick = None
    try:
        await asyncio.wait_for(drawn.wait(), 5)
        quick = asyncio.create_task(quick_writer())  # commits now; its sending waits for the first writer
        for _ in range(100):
            if await committed():
                break
            await asyncio.sleep(0.05)
        sync = asyncio.create_task(reader.since(room, 0))
        await settle(0.3)
        assert not sync.done()
        release.set()
        events, more = await asyncio.wait_for(sync, 5)
        assert [e.data for e in events] == [{"n": 1}, {"n": 2}] and not more
    finally:
        release.set()
        await asyncio.gather(slow, *([quick] if quick else []), return_exceptions=True)
        await repeatable.close()
