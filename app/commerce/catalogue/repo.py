"""SQL for a shop's catalogue: categories, products, their modifier groups and options, and search."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import asyncpg

from app.platform.sql import assignments, prefix_search


@dataclass(frozen=True, slots=True)
class Category:
    id: uuid.UUID
    shop_id: uuid.UUID
    name: str
    position: int
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class ModifierOption:
    id: uuid.UUID
    name: str
    price_delta: int


@dataclass(frozen=True, slots=True)
class ModifierGroup:
    id: uuid.UUID
    name: str
    min_choices: int
    max_choices: int
    options: list[ModifierOption]


@dataclass(frozen=True, slots=True)
class Product:
    id: uuid.UUID
    shop_id: uuid.UUID
    category_id: uuid.UUID | None
    name: str
    description: str | None
    brand: str | None
    price: int
    currency: str
    image_urls: list[str]
    active: bool
    featured: bool
    stock: int | None
    made_to_order: bool
    in_stock: bool
    rating: float | None
    rating_count: int
    created_at: dt.datetime
    updated_at: dt.datetime
    modifier_groups: list[ModifierGroup] = field(default_factory=list)


_CATEGORY = "id, shop_id, name, position, created_at"
# Whether one unit can be ordered now: a counted product has one left; a made-to-order one has enough of
# every ingredient its recipe takes whatever is chosen (an option's own extra is checked when ordered).
_IN_STOCK = """(CASE WHEN p.stock IS NOT NULL THEN p.stock > 0 ELSE NOT EXISTS (
    SELECT 1 FROM recipe_lines r JOIN inventory_items i ON i.id = r.item_id
    WHERE r.product_id = p.id AND r.option_id IS NULL AND i.quantity < r.amount) END)"""
_PRODUCT = f"""p.id, p.shop_id, p.category_id, p.name, p.description, p.brand, p.price, p.currency, p.image_urls,
    p.active, p.featured, p.stock, p.stock IS NULL AS made_to_order, {_IN_STOCK} AS in_stock,
    CASE WHEN p.rating_count > 0 THEN p.rating::float8 END AS rating, p.rating_count, p.created_at, p.updated_at"""
# The columns a product's change may set (the rest are the server's).
PRODUCT_COLUMNS = (
    "category_id",
    "name",
    "description",
    "brand",
    "price",
    "image_urls",
    "active",
    "featured",
    "stock",
)


def _product(row: asyncpg.Record) -> Product:
    return Product(**{k: row[k] for k in Product.__slots__ if k != "modifier_groups"})  # type: ignore[attr-defined]


async def insert_category(conn: asyncpg.Connection, *, shop_id: uuid.UUID, name: str, position: int) -> Category | None:
    """The new category; None when the shop has one of that name."""
    row = await conn.fetchrow(
        f"""INSERT INTO product_categories (shop_id, name, position) VALUES ($1, $2, $3)
            ON CONFLICT (shop_id, name) DO NOTHING RETURNING {_CATEGORY}""",
        shop_id,
        name,
        position,
    )
    return Category(**dict(row)) if row else None


async def get_category(conn: asyncpg.Connection, category_id: uuid.UUID) -> Category | None:
    row = await conn.fetchrow(f"SELECT {_CATEGORY} FROM product_categories WHERE id = $1", category_id)
    return Category(**dict(row)) if row else None


async def categories_of(conn: asyncpg.Connection, shop_id: uuid.UUID) -> list[Category]:
    rows = await conn.fetch(
        f"SELECT {_CATEGORY} FROM product_categories WHERE shop_id = $1 ORDER BY position, name, id", shop_id
    )
    return [Category(**dict(r)) for r in rows]


async def update_category(conn: asyncpg.Connection, category_id: uuid.UUID, changes: dict[str, Any]) -> Category:
    """Raises UniqueViolationError for a name the shop has."""
    sets = assignments(changes, 2)
    row = await conn.fetchrow(
        f"UPDATE product_categories SET {sets} WHERE id = $1 RETURNING {_CATEGORY}", category_id, *changes.values()
    )
    return Category(**dict(row))


async def delete_category(conn: asyncpg.Connection, category_id: uuid.UUID) -> None:
    """Its products stay, without a category."""
    await conn.execute("DELETE FROM product_categories WHERE id = $1", category_id)


async def insert_product(
    conn: asyncpg.Connection, *, shop_id: uuid.UUID, currency: str, fields: dict[str, Any]
) -> uuid.UUID:
    columns = ["shop_id", "currency", *fields]
    placeholders = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    return await conn.fetchval(
        f"INSERT INTO products ({', '.join(columns)}) VALUES ({placeholders}) RETURNING id",
        shop_id,
        currency,
        *fields.values(),
    )


async def update_product(conn: asyncpg.Connection, product_id: uuid.UUID, changes: dict[str, Any]) -> None:
    sets = assignments(changes, 2)
    await conn.execute(
        f"UPDATE products SET {sets}{', ' if sets else ''}updated_at = now() WHERE id = $1",
        product_id,
        *changes.values(),
    )


async def delete_product(conn: asyncpg.Connection, product_id: uuid.UUID) -> bool:
    """Delete a product never ordered; one that was is archived instead (hidden everywhere, out of carts and
    favourites), so its orders keep pointing at it. True when it was archived."""
    return bool(
        await conn.fetchval(
            """WITH ordered AS (SELECT EXISTS (SELECT FROM order_items WHERE product_id = $1) AS yes),
                    archived AS (UPDATE products SET archived_at = now(), active = false, featured = false,
                                     updated_at = now()
                                 FROM ordered WHERE id = $1 AND ordered.yes RETURNING id),
                    uncarted AS (DELETE FROM cart_items USING ordered WHERE product_id = $1 AND ordered.yes),
                    unliked AS (DELETE FROM product_favourites USING ordered WHERE product_id = $1 AND ordered.yes),
                    deleted AS (DELETE FROM products USING ordered WHERE id = $1 AND NOT ordered.yes)
               SELECT yes FROM ordered""",
            product_id,
        )
    )


async def set_groups(conn: asyncpg.Connection, product_id: uuid.UUID, groups: Sequence[Any]) -> None:
    """Make the product's choices exactly `groups` (objects with name, min_choices, max_choices and options
    with name and price_delta): a group or an option that keeps its name keeps its id, the rest are new,
    and those no longer named are removed."""
    kept_groups = []
    for position, group in enumerate(groups):
        group_id = await conn.fetchval(
            """INSERT INTO modifier_groups (product_id, name, min_choices, max_choices, position)
               VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT (product_id, name) DO UPDATE
                   SET min_choices = excluded.min_choices, max_choices = excluded.max_choices,
                       position = excluded.position
               RETURNING id""",
            product_id,
            group.name,
            group.min_choices,
            group.max_choices,
            position,
        )
        kept_groups.append(group_id)
        await conn.execute(
            """WITH wanted AS (
                   SELECT * FROM unnest($2::text[], $3::bigint[]) WITH ORDINALITY AS w (name, price_delta, position)),
               gone AS (DELETE FROM modifier_options WHERE group_id = $1 AND name <> ALL($2::text[]))
               INSERT INTO modifier_options (group_id, name, price_delta, position)
               SELECT $1, name, price_delta, position FROM wanted
               ON CONFLICT (group_id, name) DO UPDATE
                   SET price_delta = excluded.price_delta, position = excluded.position""",
            group_id,
            [o.name for o in group.options],
            [o.price_delta for o in group.options],
        )
    await conn.execute(
        "DELETE FROM modifier_groups WHERE product_id = $1 AND id <> ALL($2::uuid[])", product_id, kept_groups
    )


async def _with_groups(conn: asyncpg.Connection, products: list[Product]) -> list[Product]:
    """The products with their choices, read for all of them in one query."""
    if not products:
        return products
    rows = await conn.fetch(
        """SELECT g.product_id, g.id AS group_id, g.name AS group_name, g.min_choices, g.max_choices,
                  o.id AS option_id, o.name AS option_name, o.price_delta
           FROM modifier_groups g JOIN modifier_options o ON o.group_id = g.id
           WHERE g.product_id = ANY($1::uuid[])
           ORDER BY g.product_id, g.position, o.position""",
        [p.id for p in products],
    )
    groups: dict[uuid.UUID, dict[uuid.UUID, ModifierGroup]] = {}
    for r in rows:
        of_product = groups.setdefault(r["product_id"], {})
        group = of_product.get(r["group_id"])
        if group is None:
            group = of_product[r["group_id"]] = ModifierGroup(
                r["group_id"], r["group_name"], r["min_choices"], r["max_choices"], []
            )
        group.options.append(ModifierOption(r["option_id"], r["option_name"], r["price_delta"]))
    return [replace(p, modifier_groups=list(groups.get(p.id, {}).values())) for p in products]


async def get_product(conn: asyncpg.Connection, product_id: uuid.UUID) -> Product | None:
    row = await conn.fetchrow(
        f"SELECT {_PRODUCT} FROM products p WHERE p.id = $1 AND p.archived_at IS NULL", product_id
    )
    return (await _with_groups(conn, [_product(row)]))[0] if row else None


async def products_by_id(conn: asyncpg.Connection, product_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Product]:
    rows = await conn.fetch(
        f"SELECT {_PRODUCT} FROM products p WHERE p.id = ANY($1::uuid[]) AND p.archived_at IS NULL", list(product_ids)
    )
    return {p.id: p for p in await _with_groups(conn, [_product(r) for r in rows])}


@dataclass(frozen=True, slots=True)
class Order:
    """How a list is sorted: the SQL of its key, the direction, and the key's SQL type for the cursor."""

    key: str
    descending: bool
    sql_type: str


_QUERY = prefix_search("$2")
ORDERS = {
    "relevance": Order(f"ts_rank(p.search, {_QUERY})::float8", True, "float8"),
    "name": Order("p.name", False, "text"),
    "price": Order("p.price", False, "bigint"),
    "-price": Order("p.price", True, "bigint"),
    "newest": Order("p.created_at", True, "timestamptz"),
    "rating": Order("p.rating::float8", True, "float8"),
}


@dataclass(frozen=True, slots=True)
class Found:
    """A product as a list shows it, with the key it was sorted by (what the next page's cursor holds)."""

    product: Product
    key: Any


@dataclass(frozen=True, slots=True)
class Filters:
    """What a list of a shop's products is narrowed to; every filter given must hold."""

    shop_id: uuid.UUID
    words: str | None = None
    category_id: uuid.UUID | None = None
    brand: str | None = None
    min_price: int | None = None
    max_price: int | None = None
    min_rating: float | None = None
    in_stock: bool | None = None
    active: bool | None = None
    featured: bool | None = None


async def search(
    conn: asyncpg.Connection, *, where: Filters, order: Order, after: tuple[Any, uuid.UUID] | None, limit: int
) -> tuple[list[Found], int]:
    """One page of a shop's products (full-text search on the GIN-indexed `search`, filters, any of ORDERS)
    and how many match in all, in one statement."""
    direction, compare = ("DESC", "<") if order.descending else ("ASC", ">")
    rows = await conn.fetch(
        f"""WITH matching AS (
                SELECT p.* FROM products p
                WHERE p.shop_id = $1 AND p.archived_at IS NULL
                  AND ($2::text IS NULL OR p.search @@ {_QUERY})
                  AND ($3::uuid IS NULL OR p.category_id = $3)
                  AND ($4::text IS NULL OR lower(p.brand) = lower($4))
                  AND ($5::bigint IS NULL OR p.price >= $5)
                  AND ($6::bigint IS NULL OR p.price <= $6)
                  AND ($7::float8 IS NULL OR (p.rating_count > 0 AND p.rating >= $7))
                  AND ($8::boolean IS NULL OR {_IN_STOCK} = $8)
                  AND ($9::boolean IS NULL OR p.active = $9)
                  AND ($10::boolean IS NULL OR p.featured = $10)
            )
            SELECT page.*, total.n AS total FROM (SELECT count(*) AS n FROM matching) total
            LEFT JOIN LATERAL (
                SELECT {_PRODUCT}, {order.key} AS sort_key FROM matching p
                WHERE $11::{order.sql_type} IS NULL OR ({order.key}, p.id) {compare} ($11::{order.sql_type}, $12::uuid)
                ORDER BY {order.key} {direction}, p.id {direction}
                LIMIT $13
            ) page ON true""",
        where.shop_id,
        where.words,
        where.category_id,
        where.brand,
        where.min_price,
        where.max_price,
        where.min_rating,
        where.in_stock,
        where.active,
        where.featured,
        *(after if after is not None else (None, None)),
        limit + 1,
    )
    total = rows[0]["total"]
    rows = [r for r in rows if r["id"] is not None]
    products = await _with_groups(conn, [_product(r) for r in rows])
    return [Found(p, r["sort_key"]) for p, r in zip(products, rows, strict=True)], total


async def favour(conn: asyncpg.Connection, *, user_id: uuid.UUID, product_id: uuid.UUID) -> None:
    await conn.execute(
        "INSERT INTO product_favourites (user_id, product_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        user_id,
        product_id,
    )


async def unfavour(conn: asyncpg.Connection, *, user_id: uuid.UUID, product_id: uuid.UUID) -> None:
    await conn.execute("DELETE FROM product_favourites WHERE user_id = $1 AND product_id = $2", user_id, product_id)


async def favourites(
    conn: asyncpg.Connection,
    *,
    user_id: uuid.UUID,
    shop_id: uuid.UUID | None,
    after: tuple[dt.datetime, uuid.UUID] | None,
    limit: int,
) -> list[tuple[Product, dt.datetime]]:
    """The customer's favourites still on sale, newest first, each with when it was chosen."""
    rows = await conn.fetch(
        f"""SELECT {_PRODUCT}, f.created_at AS favoured_at
            FROM product_favourites f JOIN products p ON p.id = f.product_id
            WHERE f.user_id = $1 AND p.active AND p.archived_at IS NULL AND ($2::uuid IS NULL OR p.shop_id = $2)
              AND ($3::timestamptz IS NULL OR (f.created_at, f.product_id) < ($3, $4::uuid))
            ORDER BY f.created_at DESC, f.product_id DESC LIMIT $5""",
        user_id,
        shop_id,
        *(after if after is not None else (None, None)),
        limit + 1,
    )
    products = await _with_groups(conn, [_product(r) for r in rows])
    return [(p, r["favoured_at"]) for p, r in zip(products, rows, strict=True)]


@dataclass(frozen=True, slots=True)
class StockMove:
    id: int
    product_id: uuid.UUID
    kind: str
    change: int
    stock_after: int
    order_id: uuid.UUID | None
    actor_id: uuid.UUID | None
    reason: str | None
    at: dt.datetime


_STOCK_MOVE = "id, product_id, kind, change, stock_after, order_id, actor_id, reason, at"


async def change_stock(
    conn: asyncpg.Connection,
    changes: dict[uuid.UUID, int],
    *,
    kind: str,
    actor_id: uuid.UUID | None,
    order_id: uuid.UUID | None = None,
    reason: str | None = None,
) -> tuple[dict[uuid.UUID, int], set[uuid.UUID]]:
    """Add each (signed) change to its counted product's stock, all or nothing, with a ledger row each.
    Rows are locked in id order, so two orders never wait on each other in a circle, and re-read after the
    wait, so stock never goes below zero. NO KEY UPDATE, because the order's lines, written first, hold a
    key share on their products: a full lock would make two orders of one product wait on each other.
    Returns what is short (product -> units left), taking nothing then, and the shops whose stock changed;
    uncounted products are left alone."""
    rows = await conn.fetch(
        """SELECT id, shop_id, stock FROM products WHERE id = ANY($1::uuid[]) AND stock IS NOT NULL ORDER BY id
           FOR NO KEY UPDATE""",
        sorted(changes),
    )
    short = {r["id"]: r["stock"] for r in rows if r["stock"] + changes[r["id"]] < 0}
    if short or not rows:
        return short, set()
    await conn.execute(
        """WITH c AS (SELECT * FROM unnest($1::uuid[], $2::integer[]) AS c (id, change)),
                u AS (UPDATE products p SET stock = p.stock + c.change, updated_at = now()
                      FROM c WHERE p.id = c.id RETURNING p.id, p.stock, c.change)
           INSERT INTO product_stock_moves (product_id, kind, change, stock_after, order_id, actor_id, reason)
           SELECT id, $3, change, stock, $4, $5, $6 FROM u""",
        [r["id"] for r in rows],
        [changes[r["id"]] for r in rows],
        kind,
        order_id,
        actor_id,
        reason,
    )
    return {}, {r["shop_id"] for r in rows}


async def set_stock(
    conn: asyncpg.Connection, product_id: uuid.UUID, stock: int | None, *, actor_id: uuid.UUID, reason: str | None
) -> None:
    """Set a product's stock to what a count found (a ledger `correction` by the difference; a product that
    was made to order starts from 0), or make it made to order (None: no longer counted)."""
    before = await conn.fetchval("SELECT stock FROM products WHERE id = $1 FOR NO KEY UPDATE", product_id)
    await conn.execute("UPDATE products SET stock = $2, updated_at = now() WHERE id = $1", product_id, stock)
    if stock is not None and stock != before:
        await conn.execute(
            """INSERT INTO product_stock_moves (product_id, kind, change, stock_after, actor_id, reason)
               VALUES ($1, 'correction', $2, $3, $4, $5)""",
            product_id,
            stock - (before or 0),
            stock,
            actor_id,
            reason,
        )


async def sold_for_order(conn: asyncpg.Connection, order_id: uuid.UUID) -> dict[uuid.UUID, int]:
    """What an order took of each product, less what it gave back already."""
    rows = await conn.fetch(
        """SELECT product_id, -sum(change)::integer AS taken FROM product_stock_moves
           WHERE order_id = $1 AND kind IN ('sale', 'return') GROUP BY product_id HAVING sum(change) < 0""",
        order_id,
    )
    return {r["product_id"]: r["taken"] for r in rows}


async def stock_moves_of(
    conn: asyncpg.Connection, *, product_id: uuid.UUID, before: int | None, limit: int
) -> list[StockMove]:
    rows = await conn.fetch(
        f"""SELECT {_STOCK_MOVE} FROM product_stock_moves WHERE product_id = $1 AND ($2::bigint IS NULL OR id < $2)
            ORDER BY id DESC LIMIT $3""",
        product_id,
        before,
        limit + 1,
    )
    return [StockMove(**dict(r)) for r in rows]
