"""Durable jobs on the real PostgreSQL: transactional enqueue, one run per job across
workers, retries into `dead`, leases that outlive a dead worker, schedules once per tick.

Each test declares job kinds of its own (unique names), so the session's server,
which claims only the kinds it knows, leaves them alone.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

import pytest

from app.platform.config import Settings
from app.platform.db import Database
from app.platform.jobs import Job, Jobs, Schedule


@pytest.fixture
async def pools(settings: Settings) -> AsyncIterator[list[Database]]:
    """Two pools, as two worker processes would have."""
    assert settings.database_url is not None
    made = [Database(settings.database_url, min_size=1, max_size=4) for _ in range(2)]
    for pool in made:
        await pool.open()
    yield made
    for pool in made:
        await pool.close()


def _name(kind: str) -> str:
    return f"test.{kind}.{uuid.uuid4().hex[:8]}"


async def _rows(db: Database, name: str) -> list[dict[str, Any]]:
    async with db.connection() as conn:
        return [dict(r) for r in await conn.fetch("SELECT * FROM jobs WHERE name = $1 ORDER BY id", name)]


async def _until(check: Callable[[], Any], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


def _runners(settings: Settings, pools: list[Database], jobs: list[Job], schedules: list[Schedule] = ()) -> list[Jobs]:
    fast = replace(settings, job_poll_interval=0.05)
    return [Jobs(pool, fast, jobs, schedules) for pool in pools]


async def test_a_job_enqueued_in_a_rolled_back_transaction_never_runs(settings, pools, db) -> None:
    ran: list[dict[str, Any]] = []

    async def record(ctx: Any, payload: dict[str, Any]) -> None:
        ran.append(payload)

    name = _name("rollback")
    runners = _runners(settings, pools, [Job(name, record)])
    for runner in runners:
        runner.start(None)
    try:
        with pytest.raises(RuntimeError):
            async with pools[0].transaction() as tx:
                await runners[0].enqueue(tx, name, {"n": 1})
                raise RuntimeError("the change fails")
        async with pools[0].transaction() as tx:
            await runners[0].enqueue(tx, name, {"n": 2})
        await _until(lambda: _rows_gone(db, name))
        await asyncio.sleep(0.3)  # more polls: nothing else turns up
        assert ran == [{"n": 2}]
    finally:
        for runner in runners:
            await runner.stop()


async def _rows_gone(db: Database, name: str) -> bool:
    return not await _rows(db, name)


async def test_each_committed_job_runs_exactly_once_with_two_workers(settings, pools, db) -> None:
    runs: dict[int, int] = {}

    async def count(ctx: Any, payload: dict[str, Any]) -> None:
        runs[payload["n"]] = runs.get(payload["n"], 0) + 1
        await asyncio.sleep(0.01)

    name = _name("once")
    runners = _runners(settings, pools, [Job(name, count)])
    async with pools[0].transaction() as tx:
        for n in range(60):
            await runners[0].enqueue(tx, name, {"n": n})
    for runner in runners:
        runner.start(None)
    try:
        await _until(lambda: _rows_gone(db, name))
        assert runs == {n: 1 for n in range(60)}
    finally:
        for runner in runners:
            await runner.stop()


async def test_a_failing_job_is_retried_with_backoff_then_dead_with_its_error(settings, pools, db) -> None:
    attempts: list[float] = []

    async def fail(ctx: Any, payload: dict[str, Any]) -> None:
        attempts.append(asyncio.get_running_loop().time())
        raise ConnectionError("the gateway is down")

    name = _name("fail")
    runners = _runners(settings, pools[:1], [Job(name, fail, max_attempts=3, backoff=0.2)])
    async with pools[0].transaction() as tx:
        await runners[0].enqueue(tx, name, {"to": "+911234567890"})
    runners[0].start(None)
    try:

        async def dead() -> bool:
            rows = await _rows(db, name)
            return bool(rows) and rows[0]["status"] == "dead"

        await _until(dead)
        (row,) = await _rows(db, name)
        assert row["attempts"] == 3 and len(attempts) == 3
        assert row["last_error"] == "ConnectionError: the gateway is down"
        assert row["payload"] == {"to": "+911234567890"}
        # Backoff: about 0.2 s, then about 0.4 s (plus a poll each).
        assert attempts[1] - attempts[0] >= 0.2 and attempts[2] - attempts[1] >= 0.4
        await asyncio.sleep(0.3)
        assert len(attempts) == 3  # dead stays dead
    finally:
        await runners[0].stop()


async def test_a_job_that_succeeds_on_a_retry_is_done(settings, pools, db) -> None:
    calls: list[int] = []

    async def flaky(ctx: Any, payload: dict[str, Any]) -> None:
        calls.append(1)
        if len(calls) < 2:
            raise TimeoutError("slow gateway")

    name = _name("flaky")
    runners = _runners(settings, pools[:1], [Job(name, flaky, backoff=0.1)])
    async with pools[0].transaction() as tx:
        await runners[0].enqueue(tx, name)
    runners[0].start(None)
    try:
        await _until(lambda: _rows_gone(db, name))
        assert len(calls) == 2
    finally:
        await runners[0].stop()


async def test_a_job_left_running_by_a_dead_worker_runs_again_when_its_lease_ends(settings, pools, db) -> None:
    ran: list[int] = []

    async def record(ctx: Any, payload: dict[str, Any]) -> None:
        ran.append(1)

    name = _name("lease")
    runners = _runners(settings, pools[:1], [Job(name, record)])
    async with pools[0].transaction() as tx:
        job_id = await runners[0].enqueue(tx, name)
    async with db.connection() as conn:  # as a worker that claimed it and was killed
        await conn.execute(
            "UPDATE jobs SET status = 'running', attempts = 1, locked_until = now() - interval '1 second' "
            "WHERE id = $1",
            job_id,
        )
    runners[0].start(None)
    try:
        await _until(lambda: _rows_gone(db, name))
        assert ran == [1]
    finally:
        await runners[0].stop()


async def test_a_schedule_fires_once_per_tick_however_many_workers_run(settings, pools, db) -> None:
    fired: list[float] = []

    async def tick(ctx: Any, payload: dict[str, Any]) -> None:
        fired.append(asyncio.get_running_loop().time())

    name = _name("tick")
    runners = _runners(settings, pools, [Job(name, tick)], [Schedule(name, every=lambda s: 0.5)])
    for runner in runners:
        runner.start(None)
    try:
        await asyncio.sleep(1.8)
    finally:
        for runner in runners:
            await runner.stop()
    # Due at start, then every 0.5 s: at most 4 ticks in 1.8 s (two workers firing each would make
    # up to 8), never two within one interval; at least 2 even on a slow machine.
    assert 2 <= len(fired) <= 4, fired
    gaps = [b - a for a, b in itertools.pairwise(fired)]
    assert all(gap >= 0.45 for gap in gaps), gaps
    async with db.connection() as conn:
        await conn.execute("DELETE FROM job_schedules WHERE name = $1", name)


async def test_enqueueing_an_undeclared_job_is_a_programming_error(settings, pools) -> None:
    runner = _runners(settings, pools[:1], [])[0]
    with pytest.raises(ValueError, match="no job named"):
        async with pools[0].transaction() as tx:
            await runner.enqueue(tx, "test.nobody.declared.this")


async def test_job_counts_and_runs_are_on_metrics(settings, pools, api) -> None:
    async def boom(ctx: Any, payload: dict[str, Any]) -> None:
        raise ValueError("bad payload")

    name = _name("metrics")
    runners = _runners(settings, pools[:1], [Job(name, boom, max_attempts=1)])
    async with pools[0].transaction() as tx:
        await runners[0].enqueue(tx, name)
    runners[0].start(None)
    try:

        async def dead() -> bool:
            rows = await _rows(pools[0], name)
            return bool(rows) and rows[0]["status"] == "dead"

        await _until(dead)
        await runners[0].refresh_metrics()
    finally:
        await runners[0].stop()
    text = (await api.get("/metrics")).text
    assert f'gatehouse_jobs_run_total{{job="{name}",outcome="dead"}} 1.0' in text
    (dead_count,) = [line for line in text.splitlines() if line.startswith('gatehouse_jobs{status="dead"}')]
    assert float(dead_count.split()[-1]) >= 1
