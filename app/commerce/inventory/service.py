"""A shop's inventory: the ingredients its made-to-order products use, counted in whole grams, millilitres
or pieces. Every change of a quantity is a ledger row (sale, return, restock, waste, correction) with who
and why. An order takes what its recipes say in its own transaction, never below zero; a cancelled order
gives it back. Falling to the reorder threshold tells the shop's room `stock_low` once; it can tell it
again only after a restock above the threshold."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import asyncpg

from app.commerce.catalogue import service as catalogue
from app.commerce.inventory import repo
from app.commerce.inventory.schemas import ItemIn, ItemPatch, RecipeIn, StockMoveIn
from app.mall.places import service as places
from app.platform import audit
from app.platform.db import Tx
from app.platform.http import Conflict, NotFound, Unprocessable
from app.platform.pagination import decode_position, encode_position
from app.platform.security.permissions import Principal, require
from app.platform.security.scopes import Scope
from app.platform.state import AppState

MANAGERS = ("shop_manager",)
STAFF = ("shop_manager", "employee")


async def _shop(conn: asyncpg.Connection, actor: Principal, shop_id: uuid.UUID, roles: tuple[str, ...]) -> Scope:
    """The shop, as the place the caller (who must hold one of `roles` there) acts in."""
    shop = await places.existing_shop(conn, shop_id)
    require(actor, roles, places.SHOP_SCOPE, shop_id)
    return places.place_of(shop)


async def _item(conn: asyncpg.Connection, shop_id: uuid.UUID, item_id: uuid.UUID) -> repo.Item:
    item = await repo.get_item(conn, item_id)
    if item is None or item.shop_id != shop_id:
        raise NotFound("No such inventory item.")
    return item


def _alert(ctx: AppState, tx: Tx, changed: list[repo.Item]) -> list[uuid.UUID]:
    """Tell the shop's room of each item that fell to its threshold (once); returns those to mark low."""
    fell = [i for i in changed if i.quantity <= i.reorder_threshold and not i.low]
    for item in fell:
        ctx.outbox.publish(tx, places.room_of_shop(item.shop_id), "stock_low", item)
    return [i.id for i in fell]


async def _after_change(ctx: AppState, tx: Tx, changed: list[repo.Item]) -> list[repo.Item]:
    """Alert and mark what crossed its threshold; the catalogue's `in_stock` of made-to-order products reads
    these quantities, so their shops' cached answers go too."""
    for shop_id in {i.shop_id for i in changed}:
        catalogue.shown_changed(tx, shop_id)
    fell = _alert(ctx, tx, changed)
    rose = [i.id for i in changed if i.quantity > i.reorder_threshold and i.low]
    if fell:
        await repo.set_low(tx.conn, fell, True)
    if rose:
        await repo.set_low(tx.conn, rose, False)
    flips = {**dict.fromkeys(fell, True), **dict.fromkeys(rose, False)}
    return [replace(i, low=flips.get(i.id, i.low)) for i in changed]


async def create_item(ctx: AppState, *, actor: Principal, shop_id: uuid.UUID, data: ItemIn) -> repo.Item:
    async with ctx.db.transaction() as tx:
        await _shop(tx.conn, actor, shop_id, MANAGERS)
        fields = data.model_dump(exclude={"quantity"})
        item = await repo.insert_item(tx.conn, shop_id=shop_id, fields={**fields, "quantity": 0})
        if item is None:
            raise Conflict("The shop has an item of this name.", code="duplicate_name")
        changed = [item]
        if data.quantity:
            changed, _ = await repo.change_quantities(
                tx.conn, {item.id: data.quantity}, kind="restock", actor_id=actor.user_id, reason="opening stock"
            )
        (item,) = await _after_change(ctx, tx, changed)
        return item


async def items(ctx: AppState, *, actor: Principal, shop_id: uuid.UUID) -> list[repo.Item]:
    async with ctx.db.connection() as conn:
        await _shop(conn, actor, shop_id, STAFF)
        return await repo.items_of(conn, shop_id)


async def update_item(
    ctx: AppState, *, actor: Principal, shop_id: uuid.UUID, item_id: uuid.UUID, data: ItemPatch
) -> repo.Item:
    changes = {name: getattr(data, name) for name in data.model_fields_set if name in repo.ITEM_COLUMNS}
    async with ctx.db.transaction() as tx:
        await _shop(tx.conn, actor, shop_id, MANAGERS)
        await _item(tx.conn, shop_id, item_id)
        try:
            item = await repo.update_item(tx.conn, item_id, changes)
        except asyncpg.UniqueViolationError:
            raise Conflict("The shop has an item of this name.", code="duplicate_name") from None
        (item,) = await _after_change(ctx, tx, [item])
        return item


async def move(
    ctx: AppState, *, actor: Principal, shop_id: uuid.UUID, item_id: uuid.UUID, data: StockMoveIn
) -> repo.Item:
    """A restock or waste (the shop's staff), or a correction after a count (its managers)."""
    async with ctx.db.transaction() as tx:
        where = await _shop(tx.conn, actor, shop_id, MANAGERS if data.kind == "correction" else STAFF)
        item = await _item(tx.conn, shop_id, item_id)
        change = {"restock": data.amount, "waste": -data.amount}.get(data.kind, data.amount - item.quantity)
        changed, short = await repo.change_quantities(
            tx.conn, {item_id: change}, kind=data.kind, actor_id=actor.user_id, reason=data.reason
        )
        if short:
            raise Conflict(
                "That is more than there is.", code="not_enough", details={"quantity": short[item_id].quantity}
            )
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            action=f"inventory.{data.kind}",
            where=where,
            resource_type="inventory_item",
            resource_id=item_id,
            details={"change": change},
        )
        (item,) = await _after_change(ctx, tx, changed)
        return item


async def moves(
    ctx: AppState, *, actor: Principal, shop_id: uuid.UUID, item_id: uuid.UUID, cursor: str | None, limit: int
) -> dict[str, Any]:
    before = decode_position(cursor, int)
    async with ctx.db.connection() as conn:
        await _shop(conn, actor, shop_id, STAFF)
        await _item(conn, shop_id, item_id)
        found = await repo.moves_of(conn, item_id=item_id, before=before[0] if before else None, limit=limit)
    shown = found[:limit]
    return {"items": shown, "next_cursor": encode_position(shown[-1].id) if len(found) > limit else None}


async def recipe(ctx: AppState, *, actor: Principal, product_id: uuid.UUID) -> list[repo.RecipeLine]:
    product = await catalogue.get_product(ctx, actor=actor, product_id=product_id)
    async with ctx.db.connection() as conn:
        await _shop(conn, actor, product.shop_id, STAFF)
        return await repo.recipe_of(conn, product_id)


async def set_recipe(
    ctx: AppState, *, actor: Principal, product_id: uuid.UUID, data: RecipeIn
) -> list[repo.RecipeLine]:
    """What one unit of a product uses (the product's managers); each line's item is the shop's, its option
    the product's."""
    product = await catalogue.get_product(ctx, actor=actor, product_id=product_id)
    options = {o.id for g in product.modifier_groups for o in g.options}
    async with ctx.db.transaction() as tx:
        where = await _shop(tx.conn, actor, product.shop_id, MANAGERS)
        shop_items = {i.id for i in await repo.items_of(tx.conn, product.shop_id)}
        for n, line in enumerate(data.lines):
            if line.item_id not in shop_items:
                raise _line_error(n, "item_id", "not an inventory item of this shop")
            if line.option_id is not None and line.option_id not in options:
                raise _line_error(n, "option_id", "not an option of this product")
        keys = [(line.item_id, line.option_id) for line in data.lines]
        if len(set(keys)) != len(keys):
            raise Unprocessable("An item is listed twice for the same option.", code="duplicate_line")
        await repo.set_recipe(tx.conn, product_id, [(line.item_id, line.amount, line.option_id) for line in data.lines])
        catalogue.shown_changed(tx, product.shop_id)
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            where=where,
            action="recipe.set",
            resource_type="product",
            resource_id=product_id,
        )
        return await repo.recipe_of(tx.conn, product_id)


def _line_error(n: int, field: str, message: str) -> Unprocessable:
    return Unprocessable(
        message[0].upper() + message[1:] + ".",
        code="invalid_recipe",
        details=[{"field": f"lines.{n}.{field}", "message": message, "type": "invalid"}],
    )


async def take_for_order(
    ctx: AppState,
    tx: Tx,
    *,
    lines: list[tuple[uuid.UUID, list[uuid.UUID], int]],
    order_id: uuid.UUID,
    actor_id: uuid.UUID,
) -> None:
    """Take the ingredients of made-to-order lines of (product, options chosen, quantity); 409
    `out_of_stock` naming each ingredient short, what is left and the products that need it."""
    recipes = await repo.needs(tx.conn, sorted({product_id for product_id, _, _ in lines}))
    if not recipes:
        return
    wanted: dict[uuid.UUID, int] = {}
    users: dict[uuid.UUID, set[uuid.UUID]] = {}
    for product_id, option_ids, quantity in lines:
        for of_product, option_id, item_id, amount in recipes:
            if of_product == product_id and (option_id is None or option_id in option_ids):
                wanted[item_id] = wanted.get(item_id, 0) + amount * quantity
                users.setdefault(item_id, set()).add(product_id)
    changed, short = await repo.change_quantities(
        tx.conn, {item: -need for item, need in wanted.items()}, kind="sale", actor_id=actor_id, order_id=order_id
    )
    if short:
        raise Conflict(
            "Some ingredients are not in stock in those amounts.",
            code="out_of_stock",
            details={
                "ingredients": [
                    {
                        "item_id": item.id,
                        "name": item.name,
                        "unit": item.unit,
                        "wanted": wanted[item.id],
                        "left": item.quantity,
                        "product_ids": sorted(users[item.id]),
                    }
                    for item in sorted(short.values(), key=lambda i: i.name)
                ]
            },
        )
    await _after_change(ctx, tx, changed)


async def return_for_order(ctx: AppState, tx: Tx, *, order_id: uuid.UUID, actor_id: uuid.UUID) -> None:
    """Give back what a cancelled order took."""
    taken = await repo.sold_for_order(tx.conn, order_id)
    if taken:
        changed, _ = await repo.change_quantities(tx.conn, taken, kind="return", actor_id=actor_id, order_id=order_id)
        await _after_change(ctx, tx, changed)
