"""SQL for orders: writing one with its lines, taking and returning stock, moving its status, payments."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import asyncpg

from app.platform.http import dumps


@dataclass(frozen=True, slots=True)
class OrderOption:
    id: uuid.UUID
    name: str
    price_delta: int


@dataclass(frozen=True, slots=True)
class OrderItem:
    product_id: uuid.UUID | None
    name: str
    options: list[OrderOption]
    quantity: int
    unit_price: int
    line_total: int


@dataclass(frozen=True, slots=True)
class Order:
    id: uuid.UUID
    shop_id: uuid.UUID
    customer_id: uuid.UUID | None
    shop_customer_id: uuid.UUID | None  # the shop's record of a customer without an account (or before one)
    placed_by: uuid.UUID | None
    channel: str
    status: str
    currency: str
    subtotal: int
    offer_id: uuid.UUID | None
    discount_percent: int
    discount: int
    tax_rate_bp: int
    tax: int
    points_redeemed: int
    total: int
    points_earned: int
    note: str | None
    fulfilment: str
    shipping_address: dict[str, Any] | None
    carrier: str | None
    tracking_number: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    items: list[OrderItem] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class NewLine:
    """A line to write: the product's state and price as the order takes them."""

    product_id: uuid.UUID
    name: str
    options: list[dict[str, Any]]
    quantity: int
    unit_price: int
    stock_taken: bool


_ORDER = """id, shop_id, customer_id, shop_customer_id, placed_by, channel, status, currency, subtotal, offer_id,
    discount_percent, discount, tax_rate_bp, tax, points_redeemed, total, points_earned, note, fulfilment,
    shipping_address, carrier, tracking_number, created_at, updated_at"""


def _order(row: asyncpg.Record) -> Order:
    return Order(**{k: row[k] for k in Order.__slots__ if k != "items"})  # type: ignore[attr-defined]


async def insert(
    conn: asyncpg.Connection, *, fields: dict[str, Any], lines: Sequence[NewLine], actor_id: uuid.UUID
) -> uuid.UUID:
    columns = list(fields)
    order_id = await conn.fetchval(
        f"""INSERT INTO orders ({", ".join(columns)}) VALUES ({", ".join(f"${i}" for i in range(1, len(columns) + 1))})
            RETURNING id""",
        *fields.values(),
    )
    await conn.execute(
        """INSERT INTO order_items (order_id, position, product_id, name, options, quantity, unit_price, line_total,
                                    stock_taken)
           SELECT $1, l.position, l.product_id, l.name, l.options::jsonb, l.quantity, l.unit_price,
                  l.unit_price * l.quantity, l.stock_taken
           FROM unnest($2::integer[], $3::uuid[], $4::text[], $5::text[], $6::integer[], $7::bigint[], $8::boolean[])
                AS l (position, product_id, name, options, quantity, unit_price, stock_taken)""",
        order_id,
        list(range(len(lines))),
        [line.product_id for line in lines],
        [line.name for line in lines],
        [dumps(line.options).decode() for line in lines],  # JSON text: a list of lists reads as a 2-D array
        [line.quantity for line in lines],
        [line.unit_price for line in lines],
        [line.stock_taken for line in lines],
    )
    await conn.execute(
        "INSERT INTO order_moves (order_id, from_status, to_status, actor_id) VALUES ($1, NULL, 'pending', $2)",
        order_id,
        actor_id,
    )
    return order_id


async def _with_items(conn: asyncpg.Connection, orders: list[Order]) -> list[Order]:
    if not orders:
        return orders
    rows = await conn.fetch(
        """SELECT order_id, product_id, name, options, quantity, unit_price, line_total FROM order_items
           WHERE order_id = ANY($1::uuid[]) ORDER BY order_id, position""",
        [o.id for o in orders],
    )
    items: dict[uuid.UUID, list[OrderItem]] = {}
    for r in rows:
        options = [OrderOption(uuid.UUID(o["id"]), o["name"], o["price_delta"]) for o in r["options"]]
        items.setdefault(r["order_id"], []).append(
            OrderItem(r["product_id"], r["name"], options, r["quantity"], r["unit_price"], r["line_total"])
        )
    return [replace(o, items=items.get(o.id, [])) for o in orders]


async def get(conn: asyncpg.Connection, order_id: uuid.UUID, *, lock: bool = False) -> Order | None:
    row = await conn.fetchrow(f"SELECT {_ORDER} FROM orders WHERE id = $1{' FOR UPDATE' if lock else ''}", order_id)
    return (await _with_items(conn, [_order(row)]))[0] if row else None


async def list_orders(
    conn: asyncpg.Connection,
    *,
    shop_id: uuid.UUID | None,
    customer_id: uuid.UUID | None,
    status: str | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    after: tuple[dt.datetime, uuid.UUID] | None,
    limit: int,
    record: tuple[uuid.UUID, uuid.UUID | None] | None = None,
) -> list[Order]:
    """Newest first, of a shop or of a customer (or both); `record` (a customer record and the account it is
    linked to, if any) keeps the orders that name either."""
    record_id, linked = record if record is not None else (None, None)
    rows = await conn.fetch(
        f"""SELECT {_ORDER} FROM orders
            WHERE ($1::uuid IS NULL OR shop_id = $1) AND ($2::uuid IS NULL OR customer_id = $2)
              AND ($3::text IS NULL OR status = $3)
              AND ($4::timestamptz IS NULL OR created_at >= $4) AND ($5::timestamptz IS NULL OR created_at < $5)
              AND ($6::timestamptz IS NULL OR (created_at, id) < ($6, $7))
              AND ($9::uuid IS NULL OR shop_customer_id = $9 OR customer_id = $10)
            ORDER BY created_at DESC, id DESC LIMIT $8""",
        shop_id,
        customer_id,
        status,
        since,
        until,
        *(after if after is not None else (None, None)),
        limit + 1,
        record_id,
        linked,
    )
    return await _with_items(conn, [_order(r) for r in rows])


async def move(
    conn: asyncpg.Connection,
    *,
    order_id: uuid.UUID,
    expected: str,
    to: str,
    actor_id: uuid.UUID | None,
    note: str | None,
) -> bool:
    """Move the order from `expected` to `to`, keeping the move; False when it was not `expected` any more."""
    moved = await conn.fetchval(
        """WITH o AS (UPDATE orders SET status = $3, updated_at = now() WHERE id = $1 AND status = $2 RETURNING id)
           INSERT INTO order_moves (order_id, from_status, to_status, actor_id, note)
           SELECT id, $2, $3, $4, $5 FROM o RETURNING true""",
        order_id,
        expected,
        to,
        actor_id,
        note,
    )
    return bool(moved)


async def set_shipment(conn: asyncpg.Connection, order_id: uuid.UUID, *, carrier: str, tracking_number: str) -> None:
    await conn.execute(
        "UPDATE orders SET carrier = $2, tracking_number = $3 WHERE id = $1", order_id, carrier, tracking_number
    )


async def set_points_earned(conn: asyncpg.Connection, order_id: uuid.UUID, points: int) -> None:
    await conn.execute("UPDATE orders SET points_earned = $2 WHERE id = $1", order_id, points)


async def received(conn: asyncpg.Connection, *, customer_id: uuid.UUID, product_id: uuid.UUID) -> bool:
    """Whether the customer has a completed (or delivered) order with this product in it."""
    return await conn.fetchval(
        """SELECT EXISTS (SELECT 1 FROM orders o JOIN order_items i ON i.order_id = o.id
                          WHERE o.customer_id = $1 AND o.status IN ('completed', 'delivered') AND i.product_id = $2)""",
        customer_id,
        product_id,
    )
