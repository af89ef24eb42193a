"""Durable jobs on PostgreSQL: work that must happen later, once, or again until it succeeds.

A job is a row in `jobs`, enqueued in the transaction of the change that needs
it, so it commits or rolls back with that change. Every worker runs a small
loop that claims due rows with `FOR UPDATE SKIP LOCKED` (one worker per job),
leases them for the job's timeout, and runs the handler the owning domain
declared. A worker claims only the kinds it knows, so during a rolling deploy
an older worker leaves a newer kind of job to the workers that have it.

A finished job's row is deleted; a failed one is retried after an exponential
backoff, and after `max_attempts` it stays as `dead`, with its last error, for
an operator to read. Attempts are counted when a job is claimed, so a job whose
worker died mid-run (claimed again once its lease runs out) also ends up dead
rather than looping; handlers must be idempotent.

Recurring jobs are schedules: `job_schedules` holds each one's next run; the
worker that moves it forward enqueues one job, so a schedule fires once per
deployment however many workers run, and never piles up behind a job of the
same name that has not finished.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import random
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import asyncpg
import structlog

from app.platform import metrics
from app.platform.config import Settings
from app.platform.db import Database, Tx
from app.platform.timeline import TIMELINE

log = structlog.get_logger(__name__)

Handler = Callable[[Any, dict[str, Any]], Awaitable[None]]


class RetryLater(Exception):
    """Raised by a handler whose work did not get done this time (a gateway refused, say): the job is tried
    again after its backoff. Any other exception retries the same way, but is logged as the failure it is."""


@dataclass(frozen=True, slots=True)
class Job:
    """A kind of job a domain runs: `handler(ctx, payload)`; raising makes it retry."""

    name: str
    handler: Handler
    max_attempts: int = 5
    timeout: float = 60.0
    backoff: float = 2.0  # seconds before the first retry; doubled each time, capped at an hour


@dataclass(frozen=True, slots=True)
class Schedule:
    """Run job `job` (with an empty payload) every `every(settings)` seconds, once per deployment."""

    job: str
    every: Callable[[Settings], float]


SETTLE_ATTEMPTS, SETTLE_PAUSE = 3, 0.5  # recording a run's end: tries, and seconds added between them

_ENQUEUE = """
INSERT INTO jobs (name, payload, run_at, max_attempts) VALUES ($1, $2, coalesce($3, now()), $4) RETURNING id
"""
_ADD_SCHEDULES = """
INSERT INTO job_schedules (name, next_run_at) SELECT unnest($1::text[]), now() ON CONFLICT (name) DO NOTHING
"""
# Fires each due schedule (moving it forward first, so a second worker finds it no longer due) unless
# a job of its name is still waiting or running.
_FIRE_SCHEDULES = """
WITH s AS (SELECT * FROM unnest($1::text[], $2::float8[], $3::int[]) AS s(name, every, max_attempts)),
fired AS (
    UPDATE job_schedules j SET next_run_at = now() + make_interval(secs => s.every)
    FROM s
    WHERE j.name = s.name AND j.next_run_at <= now()
      AND NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.name = s.name AND jobs.status IN ('queued', 'running'))
    RETURNING s.name, s.max_attempts)
INSERT INTO jobs (name, max_attempts) SELECT name, max_attempts FROM fired
"""
_CLAIM = """
WITH due AS (
    SELECT id FROM jobs
    WHERE ((status = 'queued' AND run_at <= now()) OR (status = 'running' AND locked_until < now()))
      AND name = ANY($3::text[])
    ORDER BY run_at LIMIT $1
    FOR UPDATE SKIP LOCKED)
UPDATE jobs SET status = 'running', attempts = attempts + 1, updated_at = now(),
    locked_until = now() + make_interval(secs => $2)
FROM due WHERE jobs.id = due.id
RETURNING jobs.id, jobs.name, jobs.payload, jobs.attempts
"""
_DONE = "DELETE FROM jobs WHERE id = $1"
_FAILED = """
UPDATE jobs SET updated_at = now(), locked_until = NULL, last_error = $2,
    status = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END,
    run_at = now() + make_interval(secs => $3)
WHERE id = $1
RETURNING status
"""
_RELEASE = """
UPDATE jobs SET status = 'queued', attempts = attempts - 1, locked_until = NULL, updated_at = now()
WHERE id = $1 AND status = 'running'
"""
_COUNTS = "SELECT status, count(*) AS n FROM jobs GROUP BY status"


def backoff(job: Job, attempt: int) -> float:
    """Seconds before retry `attempt + 1`: doubling from `job.backoff`, capped at an hour, with up to 10% jitter
    so jobs that failed together do not all come back together."""
    delay = min(job.backoff * 2 ** (attempt - 1), 3600.0)
    return delay * (1 + random.random() / 10)  # noqa: S311 - jitter, not a secret


@dataclass(frozen=True, slots=True)
class _Claimed:
    id: int
    job: Job
    payload: dict[str, Any]
    attempt: int


class Jobs:
    """The job kinds and schedules every installed domain declared, and this worker's runner."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        jobs: Iterable[Job],
        schedules: Iterable[Schedule],
        *,
        concurrency: int = 4,
    ) -> None:
        self._db = db
        self._settings = settings
        self._jobs: dict[str, Job] = {}
        for job in jobs:
            if job.name in self._jobs:
                raise ValueError(f"job {job.name!r} is declared twice")
            self._jobs[job.name] = job
        self._schedules = list(schedules)
        for schedule in self._schedules:
            if schedule.job not in self._jobs:
                raise ValueError(f"schedule for undeclared job {schedule.job!r}")
        self._concurrency = concurrency
        # A claimed job is another worker's again once this runs out: past the longest timeout, with room to settle.
        self._lease = max((j.timeout for j in self._jobs.values()), default=0.0) + 30
        self._running: set[asyncio.Task[None]] = set()
        self._wakeup = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._ctx: Any = None

    # Enqueueing ----------------------------------------------------------------------

    async def enqueue(
        self,
        tx: Tx,
        name: str,
        payload: dict[str, Any] | None = None,
        *,
        run_at: dt.datetime | None = None,
    ) -> int:
        """Queue job `name` in `tx`: it runs (at or after `run_at`) only if `tx` commits."""
        job = self._jobs.get(name)
        if job is None:
            raise ValueError(f"no job named {name!r} is declared")
        job_id: int = await tx.conn.fetchval(_ENQUEUE, name, payload or {}, run_at, job.max_attempts)
        tx.after_commit(self._wake)
        return job_id

    async def _wake(self) -> None:
        self._wakeup.set()

    # Running -------------------------------------------------------------------------

    def start(self, ctx: Any) -> None:
        """Run this worker's share of the jobs; `ctx` is what handlers receive."""
        self._ctx = ctx
        self._loop_task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self, grace: float = 5.0) -> None:
        """Stop claiming; give running jobs `grace` seconds, then put the rest back in the queue."""
        if self._loop_task is not None:
            self._loop_task.cancel()
            await asyncio.gather(self._loop_task, return_exceptions=True)
            self._loop_task = None
        if self._running:
            _, pending = await asyncio.wait(self._running, timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _loop(self) -> None:
        await self._add_schedules()
        rounds = 0
        while True:
            try:
                await self.run_due()
                if rounds % 60 == 0:
                    await self.refresh_metrics()
                rounds += 1
            except Exception:  # the loop outlives anything a round meets (a cut connection, say)
                log.warning("job_poll_failed", exc_info=True)
            # Not wait_for: on Python 3.11 a cancellation that meets its timeout can be swallowed, and
            # stop() then waits for a loop that never ends (seen in CI); asyncio.timeout keeps it.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._settings.job_poll_interval):
                    await self._wakeup.wait()
            self._wakeup.clear()

    async def _add_schedules(self) -> None:
        """Give each declared schedule its row (due now if new), waiting out a database that is not up yet."""
        names = [s.job for s in self._schedules]
        while names:
            try:
                async with self._db.connection() as conn:
                    await conn.execute(_ADD_SCHEDULES, names)
                return
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                log.warning("job_schedules_unavailable", exc_info=True)
                await asyncio.sleep(self._settings.job_poll_interval)

    async def run_due(self) -> int:
        """Fire due schedules, then claim and start as many due jobs as there are free slots."""
        started = time.perf_counter()
        async with self._db.connection() as conn:
            if self._schedules:
                await conn.execute(
                    _FIRE_SCHEDULES,
                    [s.job for s in self._schedules],
                    [s.every(self._settings) for s in self._schedules],
                    [self._jobs[s.job].max_attempts for s in self._schedules],
                )
            free = self._concurrency - len(self._running)
            if free <= 0:
                return 0
            rows = await conn.fetch(_CLAIM, free, self._lease, list(self._jobs))
        TIMELINE.took("job_poll", time.perf_counter() - started)
        for row in rows:
            claimed = _Claimed(row["id"], self._jobs[row["name"]], row["payload"] or {}, row["attempts"])
            task = asyncio.get_running_loop().create_task(self._run(claimed))
            self._running.add(task)
            task.add_done_callback(self._finished)
        return len(rows)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._wakeup.set()  # a slot is free: look for more at once

    async def _run(self, claimed: _Claimed) -> None:
        job = claimed.job
        started = time.perf_counter()
        try:
            await asyncio.wait_for(job.handler(self._ctx, claimed.payload), timeout=job.timeout)
        except asyncio.CancelledError:
            await self._settle(_RELEASE, claimed.id)
            raise
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"[:2000]
            delay = backoff(job, claimed.attempt)
            status = await self._settle(_FAILED, claimed.id, error, delay)
            outcome = "dead" if status == "dead" else "retried"
            metrics.JOBS_RUN.labels(job.name, outcome).inc()
            log.warning(
                "job_failed",
                job=job.name,
                attempt=claimed.attempt,
                outcome=outcome,
                error=error,
                exc_info=not isinstance(exc, RetryLater),  # an unexpected failure keeps its traceback
            )
            return
        await self._settle(_DONE, claimed.id)
        metrics.JOBS_RUN.labels(job.name, "succeeded").inc()
        TIMELINE.took("job", time.perf_counter() - started)

    async def _settle(self, statement: str, *args: Any) -> Any:
        """Record how a run ended, trying a few times (a cut connection is replaced at once); if the database
        stays away the lease runs out and the job runs again. Never raises: the run is over either way, and
        a scheduled job's next runs wait on this one's row."""
        for attempt in range(SETTLE_ATTEMPTS):
            try:
                async with self._db.connection() as conn:
                    return await conn.fetchval(statement, *args)
            except Exception:  # whatever the driver raises about a connection that was cut mid-use
                log.warning("job_settle_failed", job_id=args[0], attempt=attempt + 1, exc_info=True)
                await asyncio.sleep(SETTLE_PAUSE * (attempt + 1))
        return None

    async def refresh_metrics(self) -> None:
        """Count the queue by status for /metrics (each worker does so every minute or so)."""
        async with self._db.connection() as conn:
            rows = await conn.fetch(_COUNTS)
        counts = {r["status"]: r["n"] for r in rows}
        for status in ("queued", "running", "dead"):
            metrics.JOBS.labels(status).set(counts.get(status, 0))
