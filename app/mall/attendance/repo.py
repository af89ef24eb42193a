"""SQL for shifts."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import asyncpg

from app.platform.pagination import Cursor, keyset


@dataclass(frozen=True, slots=True)
class Shift:
    id: uuid.UUID
    user_id: uuid.UUID
    user_name: str
    mall_id: uuid.UUID
    shop_id: uuid.UUID | None
    clock_in_at: dt.datetime
    clock_out_at: dt.datetime | None
    minutes: int | None


_SHIFT = """s.id, s.user_id, u.name AS user_name, s.mall_id, s.shop_id, s.clock_in_at, s.clock_out_at,
    (extract(epoch FROM s.clock_out_at - s.clock_in_at) / 60)::integer AS minutes"""


async def clock_in(
    conn: asyncpg.Connection, *, user_id: uuid.UUID, mall_id: uuid.UUID, shop_id: uuid.UUID | None
) -> Shift | None:
    """The new shift; None when the person has one open already."""
    row = await conn.fetchrow(
        f"""WITH s AS (INSERT INTO shifts (user_id, mall_id, shop_id) VALUES ($1, $2, $3)
                       ON CONFLICT (user_id) WHERE clock_out_at IS NULL DO NOTHING RETURNING *)
            SELECT {_SHIFT} FROM s JOIN users u ON u.id = s.user_id""",
        user_id,
        mall_id,
        shop_id,
    )
    return Shift(**dict(row)) if row else None


async def clock_out(conn: asyncpg.Connection, *, user_id: uuid.UUID) -> Shift | None:
    """The person's open shift, now closed; None when there was none."""
    row = await conn.fetchrow(
        f"""WITH s AS (UPDATE shifts SET clock_out_at = now() WHERE user_id = $1 AND clock_out_at IS NULL RETURNING *)
            SELECT {_SHIFT} FROM s JOIN users u ON u.id = s.user_id""",
        user_id,
    )
    return Shift(**dict(row)) if row else None


async def open_shift(conn: asyncpg.Connection, user_id: uuid.UUID) -> Shift | None:
    row = await conn.fetchrow(
        f"""SELECT {_SHIFT} FROM shifts s JOIN users u ON u.id = s.user_id
            WHERE s.user_id = $1 AND s.clock_out_at IS NULL""",
        user_id,
    )
    return Shift(**dict(row)) if row else None


async def list_shifts(
    conn: asyncpg.Connection,
    *,
    mall_id: uuid.UUID,
    shop_ids: list[uuid.UUID] | None,
    user_id: uuid.UUID | None,
    since: dt.datetime,
    until: dt.datetime,
    after: Cursor,
    limit: int,
) -> list[Shift]:
    """Newest first; `shop_ids` None: the whole mall."""
    rows = await conn.fetch(
        f"""SELECT {_SHIFT} FROM shifts s JOIN users u ON u.id = s.user_id
            WHERE s.mall_id = $1 AND ($2::uuid[] IS NULL OR s.shop_id = ANY($2::uuid[]))
              AND ($3::uuid IS NULL OR s.user_id = $3) AND s.clock_in_at >= $4 AND s.clock_in_at < $5
              AND ($6::timestamptz IS NULL OR (s.clock_in_at, s.id) < ($6, $7))
            ORDER BY s.clock_in_at DESC, s.id DESC LIMIT $8""",
        mall_id,
        shop_ids,
        user_id,
        since,
        until,
        *keyset(after),
        limit + 1,
    )
    return [Shift(**dict(r)) for r in rows]


async def clocked_in_by_place(conn: asyncpg.Connection, mall_id: uuid.UUID) -> dict[str, list[str]]:
    """Names of who is clocked in now, by shop id (or "mall" for the mall's own staff)."""
    rows = await conn.fetch(
        """SELECT coalesce(s.shop_id::text, 'mall') AS place, u.name FROM shifts s JOIN users u ON u.id = s.user_id
           WHERE s.mall_id = $1 AND s.clock_out_at IS NULL ORDER BY place, u.name""",
        mall_id,
    )
    found: dict[str, list[str]] = {}
    for row in rows:
        found.setdefault(row["place"], []).append(row["name"])
    return found


@dataclass(frozen=True, slots=True)
class Worked:
    """What one person worked at a mall over some days: shifts begun, days with one, minutes of the
    closed ones."""

    since: dt.datetime
    shifts: int
    days: int
    minutes: int


async def worked(
    conn: asyncpg.Connection, *, user_id: uuid.UUID, mall_id: uuid.UUID, since: dt.datetime, zone: str
) -> Worked:
    row = await conn.fetchrow(
        """SELECT count(*) AS shifts, count(DISTINCT (clock_in_at AT TIME ZONE $4)::date) AS days,
                  coalesce(sum(extract(epoch FROM clock_out_at - clock_in_at) / 60), 0)::integer AS minutes
           FROM shifts WHERE user_id = $1 AND mall_id = $2 AND clock_in_at >= $3""",
        user_id,
        mall_id,
        since,
        zone,
    )
    return Worked(since=since, **dict(row))


async def on_shift(conn: asyncpg.Connection, *, mall_id: uuid.UUID, user_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Those of `user_ids` clocked in at the mall (or one of its shops) now."""
    rows = await conn.fetch(
        "SELECT user_id FROM shifts WHERE user_id = ANY($2::uuid[]) AND mall_id = $1 AND clock_out_at IS NULL",
        mall_id,
        user_ids,
    )
    return {r["user_id"] for r in rows}
