"""SQL for customers' visits to shops: one per customer, shop and day, decided by a unique key."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import asyncpg

from app.platform.pagination import Cursor, keyset


@dataclass(frozen=True, slots=True)
class ShopVisit:
    id: uuid.UUID
    shop_id: uuid.UUID
    shop_name: str
    mall_id: uuid.UUID
    user_id: uuid.UUID
    day: dt.date
    method: str
    visited_at: dt.datetime


_VISIT = "v.id, v.shop_id, s.name AS shop_name, s.mall_id, v.user_id, v.day, v.method, v.visited_at"


async def record(
    conn: asyncpg.Connection,
    *,
    shop_id: uuid.UUID,
    user_id: uuid.UUID,
    day: dt.date,
    method: str,
    by: uuid.UUID,
) -> tuple[ShopVisit, bool]:
    """The day's visit of the customer to the shop, and whether it is new (a second check-in that day,
    or one racing it, finds the first)."""
    visit_id = await conn.fetchval(
        """INSERT INTO shop_visits (shop_id, user_id, day, method, recorded_by) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (shop_id, user_id, day) DO NOTHING RETURNING id""",
        shop_id,
        user_id,
        day,
        method,
        by,
    )
    where, args = (
        ("v.id = $1", (visit_id,))
        if visit_id
        else ("v.shop_id = $1 AND v.user_id = $2 AND v.day = $3", (shop_id, user_id, day))
    )
    row = await conn.fetchrow(
        f"SELECT {_VISIT} FROM shop_visits v JOIN shops s ON s.id = v.shop_id WHERE {where}", *args
    )
    return ShopVisit(**dict(row)), visit_id is not None


async def of_user(conn: asyncpg.Connection, *, user_id: uuid.UUID, after: Cursor, limit: int) -> list[ShopVisit]:
    """Newest first."""
    rows = await conn.fetch(
        f"""SELECT {_VISIT} FROM shop_visits v JOIN shops s ON s.id = v.shop_id
            WHERE v.user_id = $1 AND ($2::timestamptz IS NULL OR (v.visited_at, v.id) < ($2, $3))
            ORDER BY v.visited_at DESC, v.id DESC LIMIT $4""",
        user_id,
        *keyset(after),
        limit + 1,
    )
    return [ShopVisit(**dict(r)) for r in rows]


@dataclass(frozen=True, slots=True)
class VisitDay:
    """A day at a shop: how many visits, and how many of them were first visits to it."""

    day: dt.date
    visits: int
    first_visits: int


async def by_day(conn: asyncpg.Connection, *, shop_id: uuid.UUID, first: dt.date, last: dt.date) -> list[VisitDay]:
    """Every day from `first` to `last`, those without a visit too."""
    rows = await conn.fetch(
        """SELECT d::date AS day, count(v.id) AS visits,
                  count(v.id) FILTER (WHERE NOT EXISTS (
                      SELECT FROM shop_visits e WHERE e.shop_id = v.shop_id AND e.user_id = v.user_id AND e.day < v.day
                  )) AS first_visits
           FROM generate_series($2::date, $3::date, interval '1 day') AS d
           LEFT JOIN shop_visits v ON v.shop_id = $1 AND v.day = d::date
           GROUP BY d ORDER BY d""",
        shop_id,
        first,
        last,
    )
    return [VisitDay(**dict(r)) for r in rows]
