"""Events: written with the change that causes them, emitted after it commits.

`Outbox.publish(tx, room, type, data)` buffers an event on the transaction. Just
before commit the buffered events are inserted into `events`, each with a row in
`events_unsent`; after commit they are emitted through Socket.IO's Redis manager
and their `events_unsent` rows deleted. A relay in every worker re-emits what a
crashed process left in `events_unsent`, claiming rows with `FOR UPDATE SKIP
LOCKED`. Delivery is at least once; clients drop an `event_id` they have seen.

Ids come from one sequence, drawn before commit, so a transaction may commit
after another that drew a higher id in the same room. Two promises hang on
that. Before drawing ids a writer marks itself as writing to its rooms until
it commits (`events_begin_write`), and readers wait for the writers marked at
that moment (`events_settled`, which returns the last id drawn before it
looked; sql/migrations/0045_event_writers.sql says how):

- `sync` never skips an event that commits late: it waits for the room's
  writers in flight, then reads only up to the id `events_settled` returned.
  Every id of the room up to there has committed or rolled back, and any later
  writer draws higher ids.
- A live event goes out only once every lower id of its room has committed:
  after commit, the emitter waits for its rooms' writers in flight. A client
  that heard an event and syncs from it later therefore finds every lower one
  already committed and sent. The wait is a round trip, so the statement that
  draws the ids first asks whether any other writer of its rooms is in flight
  right after (`events_quiet`, sql/migrations/0046_events_quiet.sql): if none
  is, there is nothing to wait for and the events go out at once.

Writers never wait for each other, or for a reader: the writes of a busy room
commit together (one WAL flush for many). With writers queueing on a per-room
lock, 400 walk-ins a second into one society queued a dozen deep behind each
other's flushes; with readers taking that lock exclusively, walk-ins and
answers at 200 a second each queued behind the emitters' waits.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg
import structlog

from app.platform import metrics
from app.platform.db import UNAVAILABLE, Database, Tx
from app.platform.realtime.manager import EmitFailed
from app.platform.timeline import TIMELINE

log = structlog.get_logger(__name__)

SYNC_LIMIT = 500
SYNC_MAX_BYTES = 256 * 1024  # a page's events' data, as JSON text; a page always holds at least one event
GAP_LIMIT = 20_000  # events a worker back on Redis delivers from the table (a minute at a few hundred a second)
GAP_MARGIN = dt.timedelta(seconds=10)  # written before the loss, committed and published after it


class Emitter(Protocol):
    async def emit_batch(self, events: list[tuple[str, Any, Any]]) -> None:
        """Send (type, data, room) events in order; `EmitFailed` if the other workers may not have them."""


@dataclass(frozen=True, slots=True)
class Event:
    event_id: int
    type: str
    room: str
    at: dt.datetime
    data: Any

    def payload(self) -> dict[str, Any]:
        return {"event_id": self.event_id, "type": self.type, "room": self.room, "at": self.at, "data": self.data}


def insert_events(batch: str) -> str:
    """CTEs that write the events of CTE `batch` (columns room, type, data, n) as a row
    `written (id, created_at)` each (and its `events_unsent` row), for any statement that writes events
    with its change; the statement returns `(SELECT quiet FROM alone)` for `emit_committed`.

    First the transaction marks itself as a writer of the batch's rooms (an InitPlan, so it finishes
    before any row, and so any id, is produced), then the rows in `n` order; ids are drawn in that
    order, which is how callers match them up. Then, once every row is written (the count), it asks
    whether its rooms have no other writer in flight. An empty batch marks nothing and writes nothing.
    """
    return f"""writing AS MATERIALIZED (SELECT events_begin_write(array_agg(room)) AS rooms FROM {batch}),
written AS (
    INSERT INTO events (room, type, data)
    SELECT room, type, data FROM {batch} WHERE (SELECT rooms FROM writing) > 0 ORDER BY n
    RETURNING id, created_at),
unsent AS (INSERT INTO events_unsent (id, created_at) SELECT id, created_at FROM written),
alone AS MATERIALIZED (
    SELECT events_quiet(array_agg(room)) AS quiet FROM {batch} HAVING (SELECT count(*) FROM written) > 0)"""


# All of a transaction's events in one statement.
_INSERT = f"""
WITH batch AS (SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[]) WITH ORDINALITY AS b(room, type, data, n)),
{insert_events("batch")}
SELECT id, created_at, (SELECT quiet FROM alone) AS quiet FROM written
"""
_SETTLED = "SELECT events_settled($1::text[])"
# Every function, run once as a connection opens (`Database(warm_sql=...)`): a session's first call compiles a
# PL/pgSQL function and plans its queries, milliseconds each fresh connection would otherwise spend inside its
# first requests (a worker opens 8 before it is ready, and more as load grows: 12 each in scripts/bench).
WARM_SQL = "SELECT events_begin_write('{}'::text[]), events_quiet('{}'::text[]), events_settled('{}'::text[])"
_MARK_SENT = "DELETE FROM events_unsent WHERE id = ANY($1::bigint[])"
_CLAIM_STRAYS = """
SELECT e.id, e.type, e.room, e.created_at, e.data FROM events_unsent u JOIN events e ON e.id = u.id
WHERE u.created_at < now() - make_interval(secs => $1)
ORDER BY u.id LIMIT 200
FOR UPDATE OF u SKIP LOCKED
"""
_SINCE = """
SELECT id, type, room, created_at, data, octet_length(data::text) AS size FROM events
WHERE room = $1 AND id > $2 AND id <= $5 AND ($4::timestamptz IS NULL OR created_at >= $4) ORDER BY id LIMIT $3
"""
_WRITTEN_SINCE = """
SELECT id, type, room, created_at, data FROM events WHERE created_at >= $1 ORDER BY id LIMIT $2
"""
# An event still unsent then (Redis away for the whole retention) takes its `events_unsent` row with it.
_PRUNE = """
WITH gone AS (
    DELETE FROM events WHERE id IN (
        SELECT id FROM events WHERE created_at < now() - make_interval(days => $1) LIMIT 5000)
    RETURNING id),
unsent AS (DELETE FROM events_unsent WHERE id IN (SELECT id FROM gone))
SELECT count(*) FROM gone
"""


def _event(row: asyncpg.Record) -> Event:
    return Event(row["id"], row["type"], row["room"], row["created_at"], row["data"])


class Outbox:
    """Writes, emits and re-emits events for one worker process."""

    def __init__(self, db: Database, emitter: Emitter | None, *, grace: float, retention_days: int) -> None:
        """With no emitter (a command run beside the servers) events are only written, and
        the servers' relay sends them."""
        self._db = db
        self._emitter = emitter
        self._grace = grace
        self._retention_days = retention_days
        self._emitted: list[int] = []
        self._flush_wakeup = asyncio.Event()

    def publish(self, tx: Tx, room: str, event_type: str, data: Any) -> None:
        """Send `event_type` with `data` to `room` if, and only if, this transaction commits."""
        pending: list[tuple[str, str, Any]] | None = tx.state.get("events")  # type: ignore[assignment]
        if pending is None:
            pending = []
            tx.state["events"] = pending
            tx.before_commit(lambda conn: self._write(tx, conn))
            tx.after_commit(lambda: self._emit_written(tx))
        pending.append((room, event_type, data))

    async def _write(self, tx: Tx, conn: asyncpg.Connection) -> None:
        pending: list[tuple[str, str, Any]] = tx.state["events"]  # type: ignore[assignment]
        rows = await conn.fetch(_INSERT, [e[0] for e in pending], [e[1] for e in pending], [e[2] for e in pending])
        rows = sorted(rows, key=lambda r: r["id"])
        tx.state["quiet"] = rows[0]["quiet"]
        tx.state["written"] = [
            Event(row["id"], event_type, room, row["created_at"], data)
            for row, (room, event_type, data) in zip(rows, pending, strict=True)
        ]

    async def _emit_written(self, tx: Tx) -> None:
        await self.emit_committed(tx.state["written"], quiet=tx.state["quiet"])  # type: ignore[arg-type]

    async def emit_committed(self, events: list[Event], *, quiet: bool) -> None:
        """Send events whose rows have committed, once their rooms' writers still in flight are done (unless
        `quiet`: `insert_events` found none when it drew their ids); for statements that write their own event
        rows. One that Redis did not take stays unsent, for the relay to send again once Redis is back."""
        if self._emitter is None or not events:
            return
        ordered = sorted(events, key=lambda e: e.event_id)
        if not quiet:
            started = time.perf_counter()
            try:
                async with self._db.connection() as conn:
                    await conn.fetchval(_SETTLED, list({event.room for event in ordered}))
                TIMELINE.took("event_wait", time.perf_counter() - started)  # its count: the emits that had to ask
            except (*UNAVAILABLE, asyncpg.PostgresError, OSError):
                # The rows are committed: send them now rather than not at all (a cut connection, say).
                log.warning("event_wait_failed", event_ids=[event.event_id for event in ordered])
        try:
            await self._emit(ordered)
        except EmitFailed:
            log.warning("event_emit_failed", event_ids=[event.event_id for event in ordered])
            return
        self._emitted.extend(event.event_id for event in ordered)
        self._flush_wakeup.set()

    async def written_since(self, moment: dt.datetime) -> list[Event]:
        """Every room's events written from `moment` on (a little before, for transactions that were
        committing then), oldest first, at most `GAP_LIMIT`: what a worker that could not hear Redis since
        then may have missed."""
        async with self._db.connection() as conn:
            rows = await conn.fetch(_WRITTEN_SINCE, moment - GAP_MARGIN, GAP_LIMIT)
        if len(rows) == GAP_LIMIT:
            log.warning("event_gap_truncated", since=moment.isoformat(), limit=GAP_LIMIT)
        return [_event(row) for row in rows]

    async def _emit(self, events: list[Event]) -> None:
        assert self._emitter is not None
        await self._emitter.emit_batch([(event.type, event.payload(), event.room) for event in events])
        for event in events:
            metrics.EVENTS_EMITTED.labels(event.type).inc()

    async def since(self, room: str, after: int, *, not_before: dt.datetime | None = None) -> tuple[list[Event], bool]:
        """Events of `room` after `after` (and none older than `not_before`), oldest first, at most
        `SYNC_LIMIT` of them and about `SYNC_MAX_BYTES` of data; the flag says more remain."""
        # Two statements, each its own transaction: the read's snapshot is taken after the writers' wait.
        async with self._db.connection() as conn:
            horizon = await conn.fetchval(_SETTLED, [room])
            rows = await conn.fetch(_SINCE, room, after, SYNC_LIMIT + 1, not_before, horizon)
        events: list[Event] = []
        size = 0
        for row in rows[:SYNC_LIMIT]:
            size += row["size"]
            if events and size > SYNC_MAX_BYTES:
                return events, True
            events.append(_event(row))
        return events, len(rows) > SYNC_LIMIT

    async def mark_loop(self) -> None:
        """Record emitted events in batches, off the request path."""
        while True:
            await self._flush_wakeup.wait()
            self._flush_wakeup.clear()
            await asyncio.sleep(0.2)
            await self.flush_marks()

    async def flush_marks(self) -> None:
        ids, self._emitted = self._emitted, []
        if not ids:
            return
        try:
            async with self._db.connection() as conn:
                await conn.execute(_MARK_SENT, ids)
        except Exception:  # a cut connection, say: unmarked, the relay sends them again (at least once)
            log.warning("event_mark_failed", count=len(ids), exc_info=True)

    async def relay_once(self) -> int:
        """Emit events a crashed process committed but never emitted; returns how many."""
        started = time.perf_counter()
        sent: list[int] = []
        async with self._db.transaction() as tx:
            rows = await tx.conn.fetch(_CLAIM_STRAYS, self._grace)
            for row in rows:  # one by one: with Redis away, only the first is delivered here again each round
                try:
                    await self._emit([_event(row)])
                except EmitFailed:
                    break  # the rest wait for the next round, in order
                sent.append(row["id"])
            if sent:
                await tx.conn.execute(_MARK_SENT, sent)
        TIMELINE.took("relay", time.perf_counter() - started)
        if sent:
            log.info("events_relayed", count=len(sent))
        return len(sent)

    async def prune(self) -> int:
        """Delete events past their retention, 5,000 at a time, until none are left; returns how many."""
        removed = 0
        async with self._db.connection() as conn:
            while True:
                count = await conn.fetchval(_PRUNE, self._retention_days)
                removed += count
                if count < 5000:
                    return removed

    async def relay_loop(self, interval: float) -> None:
        """Every worker runs this; SKIP LOCKED keeps them from sending a row twice at once."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self.relay_once()
            except Exception:  # the loop outlives anything a round meets (a cut connection, say)
                log.warning("event_relay_failed", exc_info=True)
