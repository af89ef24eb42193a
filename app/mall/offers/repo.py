"""SQL for offers and the shops they apply at."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from app.platform.pagination import Cursor, keyset
from app.platform.sql import assignments


@dataclass(frozen=True, slots=True)
class Offer:
    id: uuid.UUID
    mall_id: uuid.UUID
    title: str
    description: str | None
    discount_percent: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    shop_ids: list[uuid.UUID]
    created_at: dt.datetime


_OFFER = """o.id, o.mall_id, o.title, o.description, o.discount_percent, o.starts_at, o.ends_at,
    ARRAY(SELECT s.shop_id FROM offer_shops s WHERE s.offer_id = o.id ORDER BY s.shop_id) AS shop_ids, o.created_at"""


async def insert(
    conn: asyncpg.Connection,
    *,
    mall_id: uuid.UUID,
    title: str,
    description: str | None,
    discount_percent: int,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    shop_ids: list[uuid.UUID],
) -> Offer | None:
    """The new offer; None when a shop is not one of the mall's (nothing is written then)."""
    offer_id = await conn.fetchval(
        """WITH shops AS (SELECT id FROM shops WHERE mall_id = $1 AND id = ANY($7::uuid[])),
                o AS (INSERT INTO offers (mall_id, title, description, discount_percent, starts_at, ends_at)
                      SELECT $1, $2, $3, $4, $5, $6 WHERE (SELECT count(*) FROM shops) = cardinality($7::uuid[])
                      RETURNING id),
                s AS (INSERT INTO offer_shops (offer_id, shop_id) SELECT o.id, shops.id FROM o, shops)
           SELECT id FROM o""",
        mall_id,
        title,
        description,
        discount_percent,
        starts_at,
        ends_at,
        sorted(set(shop_ids)),
    )
    return await get(conn, offer_id) if offer_id else None


async def get(conn: asyncpg.Connection, offer_id: uuid.UUID) -> Offer | None:
    row = await conn.fetchrow(f"SELECT {_OFFER} FROM offers o WHERE o.id = $1", offer_id)
    return Offer(**dict(row)) if row else None


async def list_offers(
    conn: asyncpg.Connection,
    *,
    mall_id: uuid.UUID,
    shop_id: uuid.UUID | None,
    active: bool | None,
    after: Cursor,
    limit: int,
) -> list[Offer]:
    rows = await conn.fetch(
        f"""SELECT {_OFFER} FROM offers o
            WHERE o.mall_id = $1
              AND ($2::uuid IS NULL OR EXISTS (SELECT 1 FROM offer_shops s WHERE s.offer_id = o.id AND s.shop_id = $2))
              AND ($3::boolean IS NULL OR (now() >= o.starts_at AND now() < o.ends_at) = $3)
              AND ($4::timestamptz IS NULL OR (o.created_at, o.id) > ($4, $5))
            ORDER BY o.created_at, o.id LIMIT $6""",
        mall_id,
        shop_id,
        active,
        *keyset(after),
        limit + 1,
    )
    return [Offer(**dict(r)) for r in rows]


async def best_running_at(conn: asyncpg.Connection, shop_id: uuid.UUID) -> Offer | None:
    """The running offer with the largest discount at a shop (the newest, between equals)."""
    row = await conn.fetchrow(
        f"""SELECT {_OFFER} FROM offers o JOIN offer_shops s ON s.offer_id = o.id
            WHERE s.shop_id = $1 AND now() >= o.starts_at AND now() < o.ends_at
            ORDER BY o.discount_percent DESC, o.created_at DESC LIMIT 1""",
        shop_id,
    )
    return Offer(**dict(row)) if row else None


# The columns a change may set; `shop_ids` is the join table's.
COLUMNS = ("title", "description", "discount_percent", "starts_at", "ends_at")


async def update(
    conn: asyncpg.Connection, offer: Offer, changes: dict[str, Any], shop_ids: list[uuid.UUID] | None
) -> Offer | None:
    """Set the given columns and, when given, the shops; None when a shop is not one of the offer's mall's
    (nothing is changed then). Raises CheckViolationError when the offer would end before it starts."""
    if shop_ids is not None:
        wanted = sorted(set(shop_ids))
        found = await conn.fetchval(
            "SELECT count(*) FROM shops WHERE mall_id = $1 AND id = ANY($2::uuid[])", offer.mall_id, wanted
        )
        if found != len(wanted):
            return None
        await conn.execute(
            """WITH gone AS (DELETE FROM offer_shops WHERE offer_id = $1 AND shop_id <> ALL($2::uuid[]))
               INSERT INTO offer_shops (offer_id, shop_id) SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING""",
            offer.id,
            wanted,
        )
    if changes:
        sets = assignments(changes, 2)
        await conn.execute(f"UPDATE offers SET {sets} WHERE id = $1", offer.id, *changes.values())
    return await get(conn, offer.id)


async def delete(conn: asyncpg.Connection, offer_id: uuid.UUID) -> bool:
    return await conn.execute("DELETE FROM offers WHERE id = $1", offer_id) != "DELETE 0"
