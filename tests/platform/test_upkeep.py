"""The platform's retention jobs forget what has outlived its window, and nothing younger."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

from app.platform import upkeep
from app.platform.realtime.outbox import Outbox
from tests.helpers import Api


async def test_old_idempotency_keys_are_forgotten_and_recent_ones_kept(api: Api, settings, db) -> None:
    user = await api.signup()
    async with db.connection() as conn:
        await conn.execute(
            """INSERT INTO idempotency_keys (user_id, scope, key, request_hash, created_at) VALUES
               ($1::uuid, 'test', 'old', '\\x00', now() - interval '8 days'),
               ($1::uuid, 'test', 'new', '\\x00', now() - interval '6 days')""",
            user.id,
        )
    ctx = SimpleNamespace(db=db, settings=replace(settings, idempotency_retention_days=7))
    await upkeep.prune_idempotency_keys(ctx, {})
    async with db.connection() as conn:
        kept = await conn.fetch("SELECT key FROM idempotency_keys WHERE user_id = $1::uuid", user.id)
    assert [r["key"] for r in kept] == ["new"]


async def test_old_events_are_pruned_in_batches_until_none_are_left(api: Api, db) -> None:
    user = await api.signup()
    room = f"user:{user.id}"
    async with db.connection() as conn:
        await conn.execute(
            """INSERT INTO events (room, type, data, created_at)
               SELECT $1, 'old', '{}'::jsonb, now() - interval '9 days' FROM generate_series(1, 5200)""",
            room,
        )
        await conn.execute("INSERT INTO events (room, type, data) VALUES ($1, 'new', '{}')", room)
        # One old event was never sent (Redis away all along), and one new one is waiting to be.
        unsent = await conn.fetch(
            """INSERT INTO events_unsent (id, created_at)
               (SELECT id, created_at FROM events WHERE room = $1 ORDER BY id LIMIT 1)
               UNION ALL (SELECT id, created_at FROM events WHERE room = $1 ORDER BY id DESC LIMIT 1)
               RETURNING id""",
            room,
        )
    ctx = SimpleNamespace(outbox=Outbox(db, None, grace=30.0, retention_days=7))
    await upkeep.prune_events(ctx, {})
    async with db.connection() as conn:
        left = await conn.fetch("SELECT type FROM events WHERE room = $1", room)
        still = await conn.fetch("SELECT id FROM events_unsent WHERE id = ANY($1::bigint[])", [r["id"] for r in unsent])
    assert [r["type"] for r in left] == ["new"]
    assert [r["id"] for r in still] == [unsent[1]["id"]]


def test_both_retention_jobs_are_scheduled() -> None:
    assert {s.job for s in upkeep.SCHEDULES} == {j.name for j in upkeep.JOBS}
