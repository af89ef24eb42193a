"""SQL for a shop's inventory: items, recipes, and the ledger every change of a quantity writes."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import asyncpg

from app.platform.sql import assignments


@dataclass(frozen=True, slots=True)
class Item:
    id: uuid.UUID
    shop_id: uuid.UUID
    name: str
    unit: str
    quantity: int
    reorder_threshold: int
    supplier: str | None
    low: bool
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Move:
    id: int
    item_id: uuid.UUID
    kind: str
    change: int
    quantity_after: int
    order_id: uuid.UUID | None
    actor_id: uuid.UUID | None
    reason: str | None
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class RecipeLine:
    item_id: uuid.UUID
    item_name: str
    unit: str
    amount: int
    option_id: uuid.UUID | None


_ITEM = "id, shop_id, name, unit, quantity, reorder_threshold, supplier, low, created_at, updated_at"
_MOVE = "id, item_id, kind, change, quantity_after, order_id, actor_id, reason, at"
ITEM_COLUMNS = ("name", "unit", "reorder_threshold", "supplier")


async def insert_item(conn: asyncpg.Connection, *, shop_id: uuid.UUID, fields: dict[str, Any]) -> Item | None:
    """The new item, with nothing on hand yet; None when the shop has one of that name."""
    columns = ["shop_id", *fields]
    row = await conn.fetchrow(
        f"""INSERT INTO inventory_items ({", ".join(columns)})
            VALUES ({", ".join(f"${i}" for i in range(1, len(columns) + 1))})
            ON CONFLICT (shop_id, name) DO NOTHING RETURNING {_ITEM}""",
        shop_id,
        *fields.values(),
    )
    return Item(**dict(row)) if row else None


async def get_item(conn: asyncpg.Connection, item_id: uuid.UUID, *, lock: bool = False) -> Item | None:
    row = await conn.fetchrow(
        f"SELECT {_ITEM} FROM inventory_items WHERE id = $1{' FOR UPDATE' if lock else ''}", item_id
    )
    return Item(**dict(row)) if row else None


async def items_of(conn: asyncpg.Connection, shop_id: uuid.UUID) -> list[Item]:
    rows = await conn.fetch(f"SELECT {_ITEM} FROM inventory_items WHERE shop_id = $1 ORDER BY name, id", shop_id)
    return [Item(**dict(r)) for r in rows]


async def update_item(conn: asyncpg.Connection, item_id: uuid.UUID, changes: dict[str, Any]) -> Item:
    """Raises UniqueViolationError for a name the shop has."""
    sets = assignments(changes, 2)
    row = await conn.fetchrow(
        f"UPDATE inventory_items SET {sets}{', ' if sets else ''}updated_at = now() WHERE id = $1 RETURNING {_ITEM}",
        item_id,
        *changes.values(),
    )
    return Item(**dict(row))


async def change_quantities(
    conn: asyncpg.Connection,
    changes: dict[uuid.UUID, int],
    *,
    kind: str,
    actor_id: uuid.UUID | None,
    order_id: uuid.UUID | None = None,
    reason: str | None = None,
) -> tuple[list[Item], dict[uuid.UUID, Item]]:
    """Add each (signed) change to its item, all or nothing, with a ledger row each; the items are locked in
    id order and re-read after the wait, so no quantity goes below zero. Returns the items changed, and
    (taking nothing then) those that would go below zero, as they are."""
    ids = sorted(changes)
    rows = await conn.fetch(
        f"SELECT {_ITEM} FROM inventory_items WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE", ids
    )
    found = [Item(**dict(r)) for r in rows]
    short = {i.id: i for i in found if i.quantity + changes[i.id] < 0}
    if short:
        return [], short
    rows = await conn.fetch(
        f"""WITH c AS (SELECT * FROM unnest($1::uuid[], $2::bigint[]) AS c (id, change)),
                 u AS (
                    UPDATE inventory_items i SET quantity = i.quantity + c.change, updated_at = now()
                    FROM c WHERE i.id = c.id RETURNING i.*, c.change),
                 m AS (
                    INSERT INTO inventory_moves (item_id, kind, change, quantity_after, order_id, actor_id, reason)
                    SELECT id, $3, change, quantity, $4, $5, $6 FROM u)
            SELECT {_ITEM} FROM u ORDER BY id""",
        [i.id for i in found],
        [changes[i.id] for i in found],
        kind,
        order_id,
        actor_id,
        reason,
    )
    return [Item(**dict(r)) for r in rows], {}


async def set_low(conn: asyncpg.Connection, item_ids: Iterable[uuid.UUID], low: bool) -> None:
    await conn.execute("UPDATE inventory_items SET low = $2 WHERE id = ANY($1::uuid[])", list(item_ids), low)


async def moves_of(conn: asyncpg.Connection, *, item_id: uuid.UUID, before: int | None, limit: int) -> list[Move]:
    rows = await conn.fetch(
        f"""SELECT {_MOVE} FROM inventory_moves WHERE item_id = $1 AND ($2::bigint IS NULL OR id < $2)
            ORDER BY id DESC LIMIT $3""",
        item_id,
        before,
        limit + 1,
    )
    return [Move(**dict(r)) for r in rows]


async def sold_for_order(conn: asyncpg.Connection, order_id: uuid.UUID) -> dict[uuid.UUID, int]:
    """What an order took, per item, less what it gave back already."""
    rows = await conn.fetch(
        """SELECT item_id, -sum(change)::bigint AS taken FROM inventory_moves
           WHERE order_id = $1 AND kind IN ('sale', 'return') GROUP BY item_id HAVING sum(change) < 0""",
        order_id,
    )
    return {r["item_id"]: r["taken"] for r in rows}


async def recipe_of(conn: asyncpg.Connection, product_id: uuid.UUID) -> list[RecipeLine]:
    rows = await conn.fetch(
        """SELECT r.item_id, i.name AS item_name, i.unit, r.amount, r.option_id
           FROM recipe_lines r JOIN inventory_items i ON i.id = r.item_id
           WHERE r.product_id = $1 ORDER BY r.option_id NULLS FIRST, i.name""",
        product_id,
    )
    return [RecipeLine(**dict(r)) for r in rows]


async def set_recipe(
    conn: asyncpg.Connection, product_id: uuid.UUID, lines: list[tuple[uuid.UUID, int, uuid.UUID | None]]
) -> None:
    """Make the product's recipe exactly `lines` of (item, amount, option or None)."""
    await conn.execute("DELETE FROM recipe_lines WHERE product_id = $1", product_id)
    await conn.execute(
        """INSERT INTO recipe_lines (product_id, item_id, amount, option_id)
           SELECT $1, l.item_id, l.amount, l.option_id
           FROM unnest($2::uuid[], $3::bigint[], $4::uuid[]) AS l (item_id, amount, option_id)""",
        product_id,
        [line[0] for line in lines],
        [line[1] for line in lines],
        [line[2] for line in lines],
    )


async def needs(
    conn: asyncpg.Connection, product_ids: list[uuid.UUID]
) -> list[tuple[uuid.UUID, uuid.UUID | None, uuid.UUID, int]]:
    """The recipes of these products: (product, option or None, item, amount) rows."""
    rows = await conn.fetch(
        "SELECT product_id, option_id, item_id, amount FROM recipe_lines WHERE product_id = ANY($1::uuid[])",
        product_ids,
    )
    return [(r["product_id"], r["option_id"], r["item_id"], r["amount"]) for r in rows]
