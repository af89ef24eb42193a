"""SQL for a shop's promotions and who they may go to."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import asyncpg

from app.platform.pagination import Cursor, keyset


@dataclass(frozen=True, slots=True)
class Promotion:
    id: uuid.UUID
    shop_id: uuid.UUID
    subject: str
    body: str
    status: str  # sending | sent
    audience: int  # customers who had opted in when it was made
    created_by: uuid.UUID | None
    created_at: dt.datetime
    sent_at: dt.datetime | None


_COLUMNS = "id, shop_id, subject, body, status, audience, created_by, created_at, sent_at"


async def insert(
    conn: asyncpg.Connection, *, shop_id: uuid.UUID, subject: str, body: str, audience: int, created_by: uuid.UUID
) -> Promotion:
    row = await conn.fetchrow(
        f"INSERT INTO promotions (shop_id, subject, body, audience, created_by) VALUES ($1, $2, $3, $4, $5) "
        f"RETURNING {_COLUMNS}",
        shop_id,
        subject,
        body,
        audience,
        created_by,
    )
    return Promotion(**dict(row))


async def get(conn: asyncpg.Connection, promotion_id: uuid.UUID) -> Promotion | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM promotions WHERE id = $1", promotion_id)
    return Promotion(**dict(row)) if row else None


async def of_shop(conn: asyncpg.Connection, shop_id: uuid.UUID, *, after: Cursor, limit: int) -> list[Promotion]:
    """Newest first; one row past `limit` tells the caller there is more."""
    at, last = keyset(after)
    rows = await conn.fetch(
        f"""SELECT {_COLUMNS} FROM promotions WHERE shop_id = $1
            AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3::uuid))
            ORDER BY created_at DESC, id DESC LIMIT $4""",
        shop_id,
        at,
        last,
        limit + 1,
    )
    return [Promotion(**dict(r)) for r in rows]


async def customers(conn: asyncpg.Connection, shop_id: uuid.UUID) -> list[uuid.UUID]:
    """Everyone with an account who ever ordered at the shop."""
    rows = await conn.fetch(
        "SELECT DISTINCT customer_id FROM orders WHERE shop_id = $1 AND customer_id IS NOT NULL", shop_id
    )
    return [r["customer_id"] for r in rows]


async def mark_sent(conn: asyncpg.Connection, promotion_id: uuid.UUID) -> None:
    await conn.execute(
        "UPDATE promotions SET status = 'sent', sent_at = now() WHERE id = $1 AND status = 'sending'", promotion_id
    )
