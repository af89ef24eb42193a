"""Writers of one room commit side by side, yet `sync` never skips an event that commits late, and no live
event goes out before every lower id of its room has committed (app.platform.realtime.outbox)."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg

from app.platform.config import Settings
from app.platform.db import Database
from app.platform.realtime.outbox import Event, Outbox
from tests.conftest import free_port
from tests.helpers import Api, connect, settle
from tests.realtime.conftest import outbox_on


@dataclass
class Writers:
    """Two writers of one room: the first half-way (its ids drawn, not committed), the second committed."""

    later: int  # the second writer's event id
    release: asyncio.Event  # lets the first commit
    tasks: list[asyncio.Task[None]]  # both writers; the second's sending waits for the first

    async def finish(self) -> None:
        self.release.set()
        await asyncio.wait_for(asyncio.gather(*self.tasks), 5)


@asynccontextmanager
async def half_way(outbox: Outbox, outbox_db: Database, room: str) -> AsyncIterator[Writers]:
    """The first writer publishes {"n": 1}, the second {"n": 2}; whatever happens, both end on leaving."""
    drawn, release = asyncio.Event(), asyncio.Event()

    async def pause(_conn: asyncpg.Connection) -> None:  # after the events' rows, before the commit
        drawn.set()
        await release.wait()

    async def write(n: int) -> None:
        async with outbox_db.transaction() as tx:
            outbox.publish(tx, room, "step", {"n": n})
            if n == 1:
                tx.before_commit(pause)

    async def committed(after: int) -> list[int]:
        async with outbox_db.connection() as conn:
            return [r["id"] for r in await conn.fetch("SELECT id FROM events WHERE room = $1 AND id > $2", room, after)]

    earlier = max(await committed(0), default=0)  # the room's events from before: not the writers'
    tasks = [asyncio.create_task(write(1))]
    try:
        await asyncio.wait_for(drawn.wait(), 5)
        tasks.append(asyncio.create_task(write(2)))
        # The second writer's row commits while the first is still open: writers do not queue on the lock.
        for _ in range(100):
            if await committed(earlier):
                break
            await asyncio.sleep(0.05)
        (later,) = await committed(earlier)
        yield Writers(later, release, tasks)
    finally:
        release.set()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_a_writer_half_way_holds_back_sync_and_later_events_but_not_other_writers(
    api: Api, server, outbox, outbox_db
) -> None:
    user = await api.signup()
    room = f"user:{user.id}"
    listener = await connect(server.url, user.access_token)
    try:
        async with half_way(outbox, outbox_db, room) as writers:
            # The second event is not sent, and a sync does not answer, until the first (the lower id) commits.
            sync = asyncio.create_task(listener.call("sync", {"room": room, "since": 0}))
            await settle(0.5)
            assert listener.of("step") == [] and not sync.done() and not writers.tasks[1].done()
            await writers.finish()
        reply = await sync
        assert reply["ok"] is True
        first, second = reply["events"]
        assert (first["data"], second["data"]) == ({"n": 1}, {"n": 2})
        assert first["event_id"] < second["event_id"] == writers.later
        live = await listener.wait_for("step", 2)
        assert sorted(e["event_id"] for e in live) == [first["event_id"], writers.later]
    finally:
        await listener.close()


class Counted(Database):
    """A database that counts the connections asked for outside a transaction: the emitter's waits, here."""

    def __init__(self, dsn: str) -> None:
        super().__init__(dsn, min_size=1, max_size=2)
        self.asked = 0

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        self.asked += 1
        async with super().connection() as conn:
            yield conn


async def test_a_writer_alone_in_its_room_sends_its_event_without_asking_the_database_again(
    api: Api, server, settings: Settings, outbox, outbox_db
) -> None:
    """Nobody else writing to the room when the ids were drawn: nothing to wait for after commit, so no round trip.
    With another writer in flight then, the emitter asks, and waits."""
    user = await api.signup()
    room = f"user:{user.id}"
    listener = await connect(server.url, user.access_token)
    assert settings.database_url is not None
    counted = Counted(settings.database_url)
    await counted.open()
    alone = outbox_on(settings, counted)
    try:
        async with counted.transaction() as tx:
            alone.publish(tx, room, "step", {"n": 1})
        assert counted.asked == 0

        async def beside() -> None:
            async with counted.transaction() as tx:
                alone.publish(tx, room, "step", {"n": 2})

        async with half_way(outbox, outbox_db, room) as writers:
            second = asyncio.create_task(beside())
            await settle(0.3)
            assert not second.done()  # committed, its event waiting for the first writer
            await writers.finish()
            await asyncio.wait_for(second, 5)
        assert counted.asked == 1
        live = await listener.wait_for("step", 4)
        assert sorted(e["data"]["n"] for e in live) == [1, 1, 2, 2]
    finally:
        await counted.close()
        await listener.close()


async def test_an_event_is_sent_even_when_the_wait_for_its_rooms_writers_cannot_reach_the_database(
    api: Api, server, settings: Settings
) -> None:
    """The rows have committed by the time the emitter waits for its rooms' writers: a database gone away since then
    delays nothing."""
    user = await api.signup()
    listener = await connect(server.url, user.access_token)
    gone = Database(f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere", min_size=0, max_size=1)
    await gone.open()
    cut_off = outbox_on(settings, gone)
    try:
        event = Event(2**62, "step", f"user:{user.id}", dt.datetime.now(dt.UTC), {"n": 3})
        await asyncio.wait_for(cut_off.emit_committed([event], quiet=False), 5)
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
    joiner = "&" if "?" in settings.database_url else "?"  # the embedded server's URL already has a query
    repeatable = Database(
        f"{settings.database_url}{joiner}default_transaction_isolation=repeatable%20read", min_size=1, max_size=1
    )
    await repeatable.open()
    reader = Outbox(repeatable, None, grace=1.0, retention_days=7)
    try:
        async with half_way(outbox, outbox_db, room) as writers:
            sync = asyncio.create_task(reader.since(room, 0))
            await settle(0.3)
            assert not sync.done()
            await writers.finish()
        events, more = await asyncio.wait_for(sync, 5)
        assert [e.data for e in events] == [{"n": 1}, {"n": 2}] and not more
    finally:
        await repeatable.close()


class HeldAfterHorizon(Database):
    """A reader's database that holds `since` between its horizon and its read, as a busy loop could."""

    def __init__(self, dsn: str) -> None:
        super().__init__(dsn, min_size=1, max_size=1)
        self.horizon_taken, self.go_on = asyncio.Event(), asyncio.Event()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Any]:
        async with super().connection() as conn:
            yield Held(conn, self)


@dataclass
class Held:
    conn: asyncpg.Connection
    db: HeldAfterHorizon

    async def fetchval(self, *args: Any) -> Any:
        value = await self.conn.fetchval(*args)
        self.db.horizon_taken.set()
        await self.db.go_on.wait()
        return value

    async def fetch(self, *args: Any) -> list[asyncpg.Record]:
        return await self.conn.fetch(*args)


async def test_sync_reads_only_up_to_its_horizon_so_a_writer_that_starts_meanwhile_is_not_skipped(
    api: Api, outbox, outbox_db, settings: Settings
) -> None:
    """Writers that start after the horizon, one still open and a later one committed, are left to the next sync:
    had the read returned the committed one, the client's cursor would pass the open one's lower id."""
    user = await api.signup()
    room = f"user:{user.id}"
    async with outbox_db.transaction() as tx:
        outbox.publish(tx, room, "step", {"n": 0})
    assert settings.database_url is not None
    held = HeldAfterHorizon(settings.database_url)
    await held.open()
    reader = Outbox(held, None, grace=1.0, retention_days=7)
    try:
        sync = asyncio.create_task(reader.since(room, 0))
        await asyncio.wait_for(held.horizon_taken.wait(), 5)
        async with half_way(outbox, outbox_db, room) as writers:
            held.go_on.set()
            events, more = await asyncio.wait_for(sync, 5)
            assert [e.data for e in events] == [{"n": 0}] and not more
            await writers.finish()
        later, more = await asyncio.wait_for(reader.since(room, events[-1].event_id), 5)
        assert [e.data for e in later] == [{"n": 1}, {"n": 2}] and not more
    finally:
        held.go_on.set()  # a failure before the read must not leave `since` holding the only connection
        await held.close()


MARK, SETTLED = "SELECT events_begin_write($1::text[])", "SELECT events_settled($1::text[])"


@asynccontextmanager
async def sessions(settings: Settings, count: int) -> AsyncIterator[list[asyncpg.Connection]]:
    """`count` database sessions of their own, in the order of their backends' pids (the order readers wait for
    writers in), ended at once on leaving, even with a query of the test still waiting."""
    assert settings.database_url is not None
    conns = [await asyncpg.connect(settings.database_url) for _ in range(count)]
    try:
        yield sorted(conns, key=lambda c: c.get_server_pid())
    finally:
        for conn in conns:
            conn.terminate()


async def begin_writing(conn: asyncpg.Connection, rooms: list[str]) -> None:
    """Open a transaction marked as a writer of `rooms`; marking must not wait (2 s)."""
    await conn.execute("BEGIN")
    await asyncio.wait_for(conn.fetchval(MARK, rooms), 2)


async def test_a_reader_lets_go_of_each_writer_it_has_waited_for(settings: Settings) -> None:
    """The writer a reader waited for first writes again while the reader waits for the next one: held on to,
    its mark would stop that writer, which could hold a row lock the next writer waits for (a deadlock)."""
    room = f"user:{uuid.uuid4()}"
    async with sessions(settings, 3) as (first, second, reader):
        for writer in (first, second):
            await begin_writing(writer, [room])
        settled = asyncio.create_task(reader.fetchval(SETTLED, [room]))
        await settle(0.3)
        assert not settled.done()
        await first.execute("COMMIT")
        await settle(0.3)
        await begin_writing(first, [room])
        await first.execute("COMMIT")
        assert not settled.done()
        await second.execute("COMMIT")
        await asyncio.wait_for(settled, 2)


async def test_a_reader_waiting_for_one_room_lets_writers_of_its_other_quiet_room_through(settings: Settings) -> None:
    """A reader first tries every room's lock at once (no writer at all: nothing to wait for). When one room is
    busy, the quiet room's lock it got must be gone before it waits, or that room's writers would queue."""
    busy, quiet = f"user:{uuid.uuid4()}", f"user:{uuid.uuid4()}"
    async with sessions(settings, 3) as (writer, other, reader):
        await begin_writing(writer, [busy])
        settled = asyncio.create_task(reader.fetchval(SETTLED, [quiet, busy]))
        await settle(0.3)
        assert not settled.done()
        await begin_writing(other, [quiet])
        await other.execute("COMMIT")
        assert not settled.done()
        await writer.execute("COMMIT")
        await asyncio.wait_for(settled, 2)
        # With nobody writing, the answer comes at once: the last id drawn.
        last = await reader.fetchval("SELECT coalesce(pg_sequence_last_value('events_id_seq'), 0)")
        assert await asyncio.wait_for(reader.fetchval(SETTLED, [quiet, busy]), 2) == last
