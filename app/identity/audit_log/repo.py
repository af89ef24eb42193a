"""SQL for reading the audit log (which `app.platform.audit` alone writes)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    actor_id: uuid.UUID | None
    actor_name: str | None
    action: str
    resource_type: str
    resource_id: str | None
    request_id: str | None
    ip: str | None
    details: Any
    created_at: dt.datetime


async def entries(
    conn: asyncpg.Connection,
    *,
    place: uuid.UUID | None,
    actor_id: uuid.UUID | None,
    action: str | None,
    resource_type: str | None,
    resource_id: str | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    before: int | None,
    limit: int,
) -> list[AuditEntry]:
    """Newest first. An `action` ending in a dot is a prefix: every action of that kind. A `place` keeps the
    rows filed under it (or under a place inside it)."""
    rows = await conn.fetch(
        """SELECT a.id, a.actor_id, u.name AS actor_name, a.action, a.resource_type, a.resource_id, a.request_id,
                  host(a.ip) AS ip, a.details, a.created_at
           FROM audit_logs a LEFT JOIN users u ON u.id = a.actor_id
           WHERE ($1::uuid IS NULL OR a.actor_id = $1)
             AND ($2::text IS NULL OR a.action = $2 OR (right($2, 1) = '.' AND starts_with(a.action, $2)))
             AND ($3::text IS NULL OR a.resource_type = $3)
             AND ($4::text IS NULL OR a.resource_id = $4)
             AND ($5::timestamptz IS NULL OR a.created_at >= $5)
             AND ($6::timestamptz IS NULL OR a.created_at < $6)
             AND ($7::bigint IS NULL OR a.id < $7)
             AND ($9::uuid IS NULL OR a.places @> ARRAY[$9::uuid])
           ORDER BY a.id DESC LIMIT $8""",
        actor_id,
        action,
        resource_type,
        resource_id,
        since,
        until,
        before,
        limit + 1,
        place,
    )
    return [AuditEntry(**dict(r)) for r in rows]
