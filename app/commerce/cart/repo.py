"""SQL for carts: a customer's lines at a shop."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import asyncpg

MAX_LINES = 100


@dataclass(frozen=True, slots=True)
class Line:
    id: uuid.UUID
    shop_id: uuid.UUID
    product_id: uuid.UUID
    option_ids: list[uuid.UUID]
    quantity: int
    added_at: dt.datetime


_LINE = "id, shop_id, product_id, option_ids, quantity, added_at"


async def add(
    conn: asyncpg.Connection,
    *,
    user_id: uuid.UUID,
    shop_id: uuid.UUID,
    product_id: uuid.UUID,
    option_ids: list[uuid.UUID],
    quantity: int,
) -> bool:
    """Add to the line of this choice (or start it, while the cart has fewer than MAX_LINES lines); False when
    the cart is full. Raises CheckViolationError past 99 of one line."""
    status = await conn.execute(
        """INSERT INTO cart_items (user_id, shop_id, product_id, option_ids, quantity)
           SELECT $1, $2, $3, $4, $5
           WHERE (SELECT count(*) FROM cart_items WHERE user_id = $1 AND shop_id = $2) < $6
              OR EXISTS (SELECT 1 FROM cart_items WHERE user_id = $1 AND product_id = $3 AND option_ids = $4)
           ON CONFLICT (user_id, product_id, option_ids)
               DO UPDATE SET quantity = cart_items.quantity + excluded.quantity""",
        user_id,
        shop_id,
        product_id,
        sorted(option_ids),
        quantity,
        MAX_LINES,
    )
    return status != "INSERT 0 0"


async def lines(conn: asyncpg.Connection, *, user_id: uuid.UUID, shop_id: uuid.UUID) -> list[Line]:
    rows = await conn.fetch(
        f"SELECT {_LINE} FROM cart_items WHERE user_id = $1 AND shop_id = $2 ORDER BY added_at, id", user_id, shop_id
    )
    return [Line(**dict(r)) for r in rows]


async def set_quantity(
    conn: asyncpg.Connection, *, user_id: uuid.UUID, line_id: uuid.UUID, quantity: int
) -> uuid.UUID | None:
    """The line's shop; None when the caller has no such line."""
    return await conn.fetchval(
        "UPDATE cart_items SET quantity = $3 WHERE id = $2 AND user_id = $1 RETURNING shop_id",
        user_id,
        line_id,
        quantity,
    )


async def remove(conn: asyncpg.Connection, *, user_id: uuid.UUID, line_id: uuid.UUID) -> uuid.UUID | None:
    return await conn.fetchval(
        "DELETE FROM cart_items WHERE id = $2 AND user_id = $1 RETURNING shop_id", user_id, line_id
    )


async def clear(conn: asyncpg.Connection, *, user_id: uuid.UUID, shop_id: uuid.UUID) -> None:
    await conn.execute("DELETE FROM cart_items WHERE user_id = $1 AND shop_id = $2", user_id, shop_id)
