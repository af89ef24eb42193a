"""SQL for a shop's sales over a range: orders paid and not cancelled, by the day they were placed."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import asyncpg

# What counts as sold: paid, and not cancelled since.
_SOLD = "o.status IN ('paid', 'preparing', 'ready', 'completed', 'shipped', 'delivered')"


@dataclass(frozen=True, slots=True)
class Day:
    day: dt.date
    orders: int
    revenue: int
    average_order: int


@dataclass(frozen=True, slots=True)
class TopProduct:
    product_id: uuid.UUID | None
    name: str
    quantity: int
    revenue: int


@dataclass(frozen=True, slots=True)
class ByMethod:
    method: str
    payments: int
    amount: int


async def days(
    conn: asyncpg.Connection, *, shop_id: uuid.UUID, zone: str, start: dt.datetime, end: dt.datetime
) -> list[tuple[dt.date, int, int]]:
    rows = await conn.fetch(
        f"""SELECT (o.created_at AT TIME ZONE $2)::date AS day, count(*) AS orders, sum(o.total)::bigint AS revenue
            FROM orders o WHERE o.shop_id = $1 AND {_SOLD} AND o.created_at >= $3 AND o.created_at < $4
            GROUP BY 1 ORDER BY 1""",
        shop_id,
        zone,
        start,
        end,
    )
    return [(r["day"], r["orders"], r["revenue"]) for r in rows]


async def top_products(
    conn: asyncpg.Connection, *, shop_id: uuid.UUID, start: dt.datetime, end: dt.datetime, limit: int = 10
) -> list[TopProduct]:
    rows = await conn.fetch(
        f"""SELECT i.product_id, (array_agg(i.name ORDER BY o.created_at DESC))[1] AS name,
                   sum(i.quantity)::bigint AS quantity, sum(i.line_total)::bigint AS revenue
            FROM orders o JOIN order_items i ON i.order_id = o.id
            WHERE o.shop_id = $1 AND {_SOLD} AND o.created_at >= $2 AND o.created_at < $3
            GROUP BY i.product_id ORDER BY revenue DESC, quantity DESC LIMIT $4""",
        shop_id,
        start,
        end,
        limit,
    )
    return [TopProduct(**dict(r)) for r in rows]


async def by_method(
    conn: asyncpg.Connection, *, shop_id: uuid.UUID, start: dt.datetime, end: dt.datetime
) -> list[ByMethod]:
    rows = await conn.fetch(
        f"""SELECT p.method, count(*) AS payments, sum(p.amount)::bigint AS amount
            FROM payments p JOIN orders o ON o.id = p.order_id
            WHERE o.shop_id = $1 AND {_SOLD} AND o.created_at >= $2 AND o.created_at < $3
            GROUP BY p.method ORDER BY p.method""",
        shop_id,
        start,
        end,
    )
    return [ByMethod(**dict(r)) for r in rows]
