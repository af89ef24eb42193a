"""SQL for resident requests and flat occupancies."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import asyncpg

from app.platform.pagination import Cursor, keyset


@dataclass(frozen=True, slots=True)
class ResidentRequest:
    id: uuid.UUID
    user_id: uuid.UUID
    user_name: str
    flat_id: uuid.UUID
    society_id: uuid.UUID
    relation: str
    status: str
    decided_by: uuid.UUID | None
    decided_at: dt.datetime | None
    created_at: dt.datetime


_COLS = """q.id, q.user_id, u.name AS user_name, q.flat_id, q.society_id, q.relation, q.status, q.decided_by,
           q.decided_at, q.created_at"""


async def insert_request(
    conn: asyncpg.Connection, *, user_id: uuid.UUID, flat_id: uuid.UUID, society_id: uuid.UUID, relation: str
) -> ResidentRequest | None:
    """The new pending request; None if this user already has one pending for the flat."""
    row = await conn.fetchrow(
        f"""WITH q AS (INSERT INTO resident_requests (user_id, flat_id, society_id, relation)
                       VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING *)
            SELECT {_COLS} FROM q JOIN users u ON u.id = q.user_id""",
        user_id,
        flat_id,
        society_id,
        relation,
    )
    return ResidentRequest(**dict(row)) if row else None


async def get_request(conn: asyncpg.Connection, request_id: uuid.UUID) -> ResidentRequest | None:
    row = await conn.fetchrow(
        f"SELECT {_COLS} FROM resident_requests q JOIN users u ON u.id = q.user_id WHERE q.id = $1", request_id
    )
    return ResidentRequest(**dict(row)) if row else None


async def decide(
    conn: asyncpg.Connection, *, request_id: uuid.UUID, status: str, decided_by: uuid.UUID
) -> ResidentRequest | None:
    """Approve or reject a pending request; None if it was already decided."""
    row = await conn.fetchrow(
        f"""WITH q AS (UPDATE resident_requests SET status = $2, decided_by = $3, decided_at = now()
                       WHERE id = $1 AND status = 'pending' RETURNING *)
            SELECT {_COLS} FROM q JOIN users u ON u.id = q.user_id""",
        request_id,
        status,
        decided_by,
    )
    return ResidentRequest(**dict(row)) if row else None


async def add_occupancy(conn: asyncpg.Connection, *, flat_id: uuid.UUID, user_id: uuid.UUID, relation: str) -> None:
    await conn.execute(
        """INSERT INTO flat_occupancies (flat_id, user_id, relation) VALUES ($1, $2, $3)
           ON CONFLICT (flat_id, user_id) DO UPDATE SET relation = $3""",
        flat_id,
        user_id,
        relation,
    )


async def list_requests(
    conn: asyncpg.Connection,
    *,
    society_ids: list[uuid.UUID] | None,
    user_id: uuid.UUID | None,
    status: str | None,
    after: Cursor,
    limit: int,
) -> list[ResidentRequest]:
    """Oldest first (a queue to work through). Bounded to `society_ids` or, failing that, one user."""
    rows = await conn.fetch(
        f"""SELECT {_COLS} FROM resident_requests q JOIN users u ON u.id = q.user_id
            WHERE ($1::uuid[] IS NULL AND $2::uuid IS NULL
                   OR q.society_id = ANY($1::uuid[]) OR q.user_id = $2)
              AND ($3::text IS NULL OR q.status = $3)
              AND ($4::timestamptz IS NULL OR (q.created_at, q.id) > ($4, $5))
            ORDER BY q.created_at, q.id LIMIT $6""",
        society_ids,
        user_id,
        status,
        *keyset(after),
        limit + 1,
    )
    return [ResidentRequest(**dict(r)) for r in rows]
