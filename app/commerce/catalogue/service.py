"""A shop's catalogue: its managers keep categories and products (with their choices and stock); anyone
signed in browses and searches the active ones, the shop's staff all of them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from app.commerce.catalogue import repo
from app.commerce.catalogue.schemas import CategoryIn, CategoryPatch, ProductIn, ProductPatch, ProductsQuery
from app.mall.places import service as places
from app.platform import audit, idempotency
from app.platform.db import Tx
from app.platform.http import Conflict, NotFound, Unprocessable
from app.platform.pagination import decode_position, encode_position, instant, page, sort_named
from app.platform.security.permissions import Principal, require
from app.platform.state import AppState

MANAGERS = ("shop_manager",)
STAFF = ("shop_manager", "employee")


async def _category_of_shop(conn: asyncpg.Connection, category_id: uuid.UUID | None, shop_id: uuid.UUID) -> None:
    if category_id is None:
        return
    category = await repo.get_category(conn, category_id)
    if category is None or category.shop_id != shop_id:
        raise Unprocessable(
            "The category must be one of the shop's.",
            code="unknown_category",
            details=[{"field": "category_id", "message": "not a category of this shop", "type": "unknown"}],
        )


async def create_category(ctx: AppState, *, actor: Principal, shop_id: uuid.UUID, data: CategoryIn) -> repo.Category:
    async with ctx.db.transaction() as tx:
        shop = await places.existing_shop(tx.conn, shop_id)
        require(actor, MANAGERS, places.SHOP_SCOPE, shop_id)
        category = await repo.insert_category(tx.conn, shop_id=shop_id, name=data.name, position=data.position)
        if category is None:
            raise Conflict("The shop has a category of this name.", code="duplicate_name")
        shown_changed(tx, shop_id)
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            action="category.created",
            where=places.place_of(shop),
            resource_type="category",
            resource_id=category.id,
        )
        return category


async def categories(ctx: AppState, *, shop_id: uuid.UUID) -> list[repo.Category]:
    async with ctx.db.connection() as conn:
        await places.existing_shop(conn, shop_id)
        return await repo.categories_of(conn, shop_id)


async def _own_category(conn: asyncpg.Connection, actor: Principal, shop_id: uuid.UUID, category_id: uuid.UUID) -> None:
    category = await repo.get_category(conn, category_id)
    if category is None or category.shop_id != shop_id:
        raise NotFound("No such category.")
    require(actor, MANAGERS, places.SHOP_SCOPE, shop_id)


async def update_category(
    ctx: AppState, *, actor: Principal, shop_id: uuid.UUID, category_id: uuid.UUID, data: CategoryPatch
) -> repo.Category:
    changes = {name: getattr(data, name) for name in data.model_fields_set}
    async with ctx.db.transaction() as tx:
        await _own_category(tx.conn, actor, shop_id, category_id)
        if not changes:
            category = await repo.get_category(tx.conn, category_id)
            assert category is not None, "found in this transaction"
            return category
        shown_changed(tx, shop_id)
        try:
            return await repo.update_category(tx.conn, category_id, changes)
        except asyncpg.UniqueViolationError:
            raise Conflict("The shop has a category of this name.", code="duplicate_name") from None


async def delete_category(ctx: AppState, *, actor: Principal, shop_id: uuid.UUID, category_id: uuid.UUID) -> None:
    async with ctx.db.transaction() as tx:
        await _own_category(tx.conn, actor, shop_id, category_id)
        await repo.delete_category(tx.conn, category_id)
        shown_changed(tx, shop_id)
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            action="category.deleted",
            where=await places.shop_scope(tx.conn, shop_id),
            resource_type="category",
            resource_id=category_id,
        )


async def create_product(
    ctx: AppState, *, actor: Principal, data: ProductIn, attempt: idempotency.Attempt
) -> tuple[int, Any]:
    """A product of a shop the caller manages, priced in its mall's currency."""

    async def work(tx: Tx) -> repo.Product:
        await _category_of_shop(tx.conn, data.category_id, data.shop_id)
        fields = data.model_dump(include=set(repo.PRODUCT_COLUMNS) - {"stock"})
        product_id = await repo.insert_product(tx.conn, shop_id=data.shop_id, currency=mall.currency, fields=fields)
        await repo.set_stock(tx.conn, product_id, data.stock, actor_id=actor.user_id, reason=None)
        await repo.set_groups(tx.conn, product_id, data.modifier_groups)
        shown_changed(tx, data.shop_id)
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            where=places.place_of(shop),
            action="product.created",
            resource_type="product",
            resource_id=product_id,
        )
        product = await repo.get_product(tx.conn, product_id)
        assert product is not None, "written in this transaction"
        ctx.outbox.publish(tx, places.room_of_shop(product.shop_id), "product_updated", product)
        return product

    async with ctx.db.transaction() as tx:
        shop, mall = await places.shop_and_mall(tx.conn, data.shop_id)
        require(actor, MANAGERS, places.SHOP_SCOPE, data.shop_id)
        return await idempotency.once(tx, user_id=actor.user_id, attempt=attempt, status=201, work=work)


def shown_changed(tx: Tx, shop_id: uuid.UUID) -> None:
    """What the shop's catalogue shows (a product, its price, choices, stock, rating, a category) changed in
    this transaction: its cached answers are dropped as it commits."""
    tx.stale(places.room_of_shop(shop_id))


def _sees_all(actor: Principal, shop_id: uuid.UUID) -> bool:
    return actor.has(STAFF, places.SHOP_SCOPE, shop_id)


async def get_product(ctx: AppState, *, actor: Principal, product_id: uuid.UUID) -> repo.Product:
    async with ctx.db.connection() as conn:
        product = await repo.get_product(conn, product_id)
    if product is None or not (product.active or _sees_all(actor, product.shop_id)):
        raise NotFound("No such product.")
    return product


async def products_by_id(conn: asyncpg.Connection, product_ids: list[uuid.UUID]) -> dict[uuid.UUID, repo.Product]:
    """For the cart and orders, which price what they hold from the catalogue as it is now."""
    return await repo.products_by_id(conn, product_ids)


async def update_product(ctx: AppState, *, actor: Principal, product_id: uuid.UUID, data: ProductPatch) -> repo.Product:
    changes = {name: getattr(data, name) for name in data.model_fields_set if name in repo.PRODUCT_COLUMNS}
    async with ctx.db.transaction() as tx:
        product = await repo.get_product(tx.conn, product_id)
        if product is None or not (product.active or _sees_all(actor, product.shop_id)):
            raise NotFound("No such product.")
        require(actor, MANAGERS, places.SHOP_SCOPE, product.shop_id)
        if "category_id" in changes:
            await _category_of_shop(tx.conn, data.category_id, product.shop_id)
        if "stock" in changes:
            await repo.set_stock(tx.conn, product_id, changes.pop("stock"), actor_id=actor.user_id, reason=None)
        await repo.update_product(tx.conn, product_id, changes)
        if "modifier_groups" in data.model_fields_set:
            await repo.set_groups(tx.conn, product_id, data.modifier_groups)
        shown_changed(tx, product.shop_id)
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            action="product.updated",
            where=await places.shop_scope(tx.conn, product.shop_id),
            resource_type="product",
            resource_id=product_id,
            details={"fields": sorted(data.model_fields_set)},
        )
        updated = await repo.get_product(tx.conn, product_id)
        assert updated is not None, "found in this transaction"
        ctx.outbox.publish(tx, places.room_of_shop(updated.shop_id), "product_updated", updated)
        return updated


async def delete_product(ctx: AppState, *, actor: Principal, product_id: uuid.UUID) -> None:
    async with ctx.db.transaction() as tx:
        product = await repo.get_product(tx.conn, product_id)
        if product is None or not (product.active or _sees_all(actor, product.shop_id)):
            raise NotFound("No such product.")
        require(actor, MANAGERS, places.SHOP_SCOPE, product.shop_id)
        archived = await repo.delete_product(tx.conn, product_id)
        shown_changed(tx, product.shop_id)
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            where=await places.shop_scope(tx.conn, product.shop_id),
            action="product.archived" if archived else "product.deleted",
            resource_type="product",
            resource_id=product_id,
        )


# How each sort's key is read back from a cursor.
_KEY_KINDS = {"bigint": int, "text": str, "float8": float, "timestamptz": instant}


@dataclass(frozen=True, slots=True)
class Search:
    """A page of products as it is looked up: the filters that hold for this caller (a shopper sees only
    active products), the sort and where the page starts. Two callers with equal searches get one answer,
    which is what the cache keys on."""

    where: repo.Filters
    sort: str
    after: tuple[Any, uuid.UUID] | None
    limit: int


def plan_search(actor: Principal, q: ProductsQuery) -> Search:
    """The search `q` asks of this caller; a cursor holds the sort it was made for (400 for another)."""
    sort = q.sort or ("relevance" if q.q else "name")
    if sort == "relevance" and not q.q:
        sort = "name"  # nothing to be relevant to
    position = decode_position(q.cursor, sort_named(sort), _KEY_KINDS[repo.ORDERS[sort].sql_type], uuid.UUID)
    active = q.active if _sees_all(actor, q.shop_id) else True
    where = repo.Filters(
        shop_id=q.shop_id,
        words=q.q,
        category_id=q.category_id,
        brand=q.brand,
        min_price=q.min_price,
        max_price=q.max_price,
        min_rating=q.min_rating,
        in_stock=q.in_stock,
        active=active,
        featured=q.featured,
    )
    return Search(where, sort, position[1:] if position else None, q.limit)  # type: ignore[arg-type]


async def run_search(ctx: AppState, search: Search) -> dict[str, Any]:
    """One page of a shop's products, as `{"items", "next_cursor", "total"}`."""
    async with ctx.db.connection() as conn:
        await places.existing_shop(conn, search.where.shop_id)
        found, total = await repo.search(
            conn, where=search.where, order=repo.ORDERS[search.sort], after=search.after, limit=search.limit
        )
    shown = found[: search.limit]
    last = shown[-1] if len(found) > search.limit else None
    return {
        "items": [f.product for f in shown],
        "next_cursor": encode_position(search.sort, last.key, last.product.id) if last else None,
        "total": total,
    }


async def search(ctx: AppState, *, actor: Principal, q: ProductsQuery) -> dict[str, Any]:
    """One page of a shop's products, as the caller may see them."""
    return await run_search(ctx, plan_search(actor, q))


async def _on_sale(conn: asyncpg.Connection, product_id: uuid.UUID) -> repo.Product:
    product = await repo.get_product(conn, product_id)
    if product is None or not product.active:
        raise NotFound("No such product.")
    return product


async def favour(ctx: AppState, *, actor: Principal, product_id: uuid.UUID) -> None:
    """Add a product on sale to the caller's favourites (again changes nothing)."""
    async with ctx.db.transaction() as tx:
        await _on_sale(tx.conn, product_id)
        await repo.favour(tx.conn, user_id=actor.user_id, product_id=product_id)


async def unfavour(ctx: AppState, *, actor: Principal, product_id: uuid.UUID) -> None:
    async with ctx.db.transaction() as tx:
        await repo.unfavour(tx.conn, user_id=actor.user_id, product_id=product_id)


async def favourites(
    ctx: AppState, *, actor: Principal, shop_id: uuid.UUID | None, cursor: str | None, limit: int
) -> dict[str, Any]:
    """The caller's favourites still on sale, newest first."""
    after = decode_position(cursor, instant, uuid.UUID)
    async with ctx.db.connection() as conn:
        found = await repo.favourites(conn, user_id=actor.user_id, shop_id=shop_id, after=after, limit=limit)
    listed = page(found, limit, lambda pair: (pair[1].isoformat(), pair[0].id), encode_position)
    return {**listed, "items": [product for product, _ in listed["items"]]}
