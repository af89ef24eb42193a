"""A counted product's stock and its ledger: orders take units (never below zero) and a cancelled order
gives them back; the shop's staff restock and record waste, its managers correct after a count. Every
change is a ledger row with who, why and what was left, so the number on hand can be explained."""

from __future__ import annotations

import uuid
from typing import Any

from app.commerce.catalogue import repo
from app.commerce.catalogue.schemas import ProductStockMoveIn
from app.commerce.catalogue.service import MANAGERS, STAFF, get_product, shown_changed
from app.mall.places import service as places
from app.platform import audit
from app.platform.db import Tx
from app.platform.http import Conflict
from app.platform.pagination import decode_position, encode_position
from app.platform.security.permissions import Principal, require
from app.platform.state import AppState


async def take_for_order(
    tx: Tx, wanted: dict[uuid.UUID, int], *, order_id: uuid.UUID, actor_id: uuid.UUID
) -> dict[uuid.UUID, int]:
    """Take an order's units, all or nothing; returns what is short (product -> units left) and takes
    nothing then."""
    short, shops = await repo.change_stock(
        tx.conn, {p: -n for p, n in wanted.items()}, kind="sale", actor_id=actor_id, order_id=order_id
    )
    _shown_changed(tx, shops)
    return short


async def return_for_order(tx: Tx, *, order_id: uuid.UUID, actor_id: uuid.UUID) -> None:
    """Give back what a cancelled order took (of the products still counted)."""
    taken = await repo.sold_for_order(tx.conn, order_id)
    if taken:
        _, shops = await repo.change_stock(tx.conn, taken, kind="return", actor_id=actor_id, order_id=order_id)
        _shown_changed(tx, shops)


def _shown_changed(tx: Tx, shops: set[uuid.UUID]) -> None:
    for shop_id in shops:
        shown_changed(tx, shop_id)


async def _counted(ctx: AppState, actor: Principal, product_id: uuid.UUID, roles: tuple[str, ...]) -> repo.Product:
    product = await get_product(ctx, actor=actor, product_id=product_id)
    require(actor, roles, places.SHOP_SCOPE, product.shop_id)
    if product.stock is None:
        raise Conflict("This product is made to order: its ingredients are counted instead.", code="made_to_order")
    return product


async def move(ctx: AppState, *, actor: Principal, product_id: uuid.UUID, data: ProductStockMoveIn) -> repo.Product:
    """A restock or waste (the shop's staff), or a correction after a count (its managers)."""
    product = await _counted(ctx, actor, product_id, MANAGERS if data.kind == "correction" else STAFF)
    async with ctx.db.transaction() as tx:
        if data.kind == "correction":
            await repo.set_stock(tx.conn, product_id, data.amount, actor_id=actor.user_id, reason=data.reason)
        else:
            change = data.amount if data.kind == "restock" else -data.amount
            short, _ = await repo.change_stock(
                tx.conn, {product_id: change}, kind=data.kind, actor_id=actor.user_id, reason=data.reason
            )
            if product_id in short:
                raise Conflict("That is more than there is.", code="not_enough", details={"stock": short[product_id]})
        shown_changed(tx, product.shop_id)
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            action=f"product_stock.{data.kind}",
            where=await places.shop_scope(tx.conn, product.shop_id),
            resource_type="product",
            resource_id=product_id,
            details={"amount": data.amount},
        )
        updated = await repo.get_product(tx.conn, product_id)
        assert updated is not None, "found in this transaction"
        ctx.outbox.publish(tx, places.room_of_shop(product.shop_id), "product_updated", updated)
        return updated


async def moves(
    ctx: AppState, *, actor: Principal, product_id: uuid.UUID, cursor: str | None, limit: int
) -> dict[str, Any]:
    """A product's ledger, newest first (the shop's staff)."""
    product = await get_product(ctx, actor=actor, product_id=product_id)
    require(actor, STAFF, places.SHOP_SCOPE, product.shop_id)
    before = decode_position(cursor, int)
    async with ctx.db.connection() as conn:
        found = await repo.stock_moves_of(
            conn, product_id=product_id, before=before[0] if before else None, limit=limit
        )
    shown = found[:limit]
    return {"items": shown, "next_cursor": encode_position(shown[-1].id) if len(found) > limit else None}
