"""The platform's own scheduled jobs: forgetting what has outlived its retention.

They run like any domain's jobs (once per deployment, retried), declared here because
the tables they keep (`events`, `idempotency_keys`) belong to no domain.
"""

from __future__ import annotations

from typing import Any

import structlog

from app.platform import idempotency
from app.platform.jobs import Job, Schedule

log = structlog.get_logger(__name__)

HOUR = 3600.0


async def prune_events(ctx: Any, payload: dict[str, Any]) -> None:
    """Events older than EVENT_RETENTION_DAYS: `sync` cannot reach back further."""
    removed = await ctx.outbox.prune()
    if removed:
        log.info("events_pruned", count=removed)


async def prune_idempotency_keys(ctx: Any, payload: dict[str, Any]) -> None:
    """Idempotency-Keys older than IDEMPOTENCY_RETENTION_DAYS: a retry after that is a new request."""
    async with ctx.db.connection() as conn:
        removed = await idempotency.prune(conn, days=ctx.settings.idempotency_retention_days)
    if removed:
        log.info("idempotency_keys_pruned", count=removed)


JOBS = [Job("platform.prune_events", prune_events), Job("platform.prune_idempotency_keys", prune_idempotency_keys)]
SCHEDULES = [
    Schedule("platform.prune_events", every=lambda settings: HOUR),
    Schedule("platform.prune_idempotency_keys", every=lambda settings: HOUR),
]
