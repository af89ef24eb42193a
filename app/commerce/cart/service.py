"""A customer's cart at a shop: lines added with their choices, shown with today's prices. A line whose
product went inactive, ran out or changed its choices stays in the cart and says so, rather than an order
failing on it later."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import asyncpg

from app.commerce import pricing
from app.commerce.cart import repo
from app.commerce.cart.schemas import CartItemIn
from app.commerce.catalogue import service as catalogue
from app.commerce.catalogue.repo import ModifierOption
from app.mall.places import service as places
from app.platform.http import Conflict, NotFound, Unprocessable
from app.platform.security.permissions import Principal
from app.platform.state import AppState


@dataclass(frozen=True, slots=True)
class CartLine:
    id: uuid.UUID
    product_id: uuid.UUID
    name: str
    image_url: str | None
    options: list[ModifierOption]
    quantity: int
    unit_price: int
    line_total: int
    # Why the line cannot be ordered as it is: `unavailable` (the product is no longer sold), `out_of_stock`,
    # `not_enough_stock` (fewer left than the quantity), `choices_changed`; null when it can.
    problem: str | None


@dataclass(frozen=True, slots=True)
class Cart:
    shop_id: uuid.UUID
    currency: str
    items: list[CartLine]
    subtotal: int  # of the lines that can be ordered
    orderable: bool


async def _currency(conn: asyncpg.Connection, shop_id: uuid.UUID) -> str:
    _, mall = await places.shop_and_mall(conn, shop_id)
    return mall.currency


async def view(conn: asyncpg.Connection, *, user_id: uuid.UUID, shop_id: uuid.UUID) -> Cart:
    currency = await _currency(conn, shop_id)
    lines = await repo.lines(conn, user_id=user_id, shop_id=shop_id)
    products = await catalogue.products_by_id(conn, [line.product_id for line in lines])
    items = []
    for line in lines:
        product = products[line.product_id]
        options, wrong = pricing.choose(product, line.option_ids)
        problem = (
            "unavailable"
            if not product.active
            else "choices_changed"
            if wrong
            else "out_of_stock"
            if not product.in_stock
            else "not_enough_stock"
            if product.stock is not None and product.stock < line.quantity
            else None
        )
        price = pricing.unit_price(product, options)
        items.append(
            CartLine(
                id=line.id,
                product_id=product.id,
                name=product.name,
                image_url=product.image_urls[0] if product.image_urls else None,
                options=options,
                quantity=line.quantity,
                unit_price=price,
                line_total=price * line.quantity,
                problem=problem,
            )
        )
    ok = [i for i in items if i.problem is None]
    return Cart(shop_id, currency, items, sum(i.line_total for i in ok), bool(items) and len(ok) == len(items))


async def cart(ctx: AppState, *, actor: Principal, shop_id: uuid.UUID) -> Cart:
    async with ctx.db.connection() as conn:
        return await view(conn, user_id=actor.user_id, shop_id=shop_id)


async def add(ctx: AppState, *, actor: Principal, data: CartItemIn) -> Cart:
    """Add a product with its choices: 422 naming the field for a product not sold or a choice it does not
    offer, 409 when it is out of stock or the cart is full."""
    async with ctx.db.transaction() as tx:
        product = (await catalogue.products_by_id(tx.conn, [data.product_id])).get(data.product_id)
        if product is None or not product.active:
            raise Unprocessable(
                "No such product on sale.",
                code="unknown_product",
                details=[{"field": "product_id", "message": "not a product on sale", "type": "unknown"}],
            )
        _, wrong = pricing.choose(product, data.option_ids)
        if wrong:
            raise Unprocessable(
                " ".join(wrong),
                code="invalid_choice",
                details=[{"field": "option_ids", "message": m, "type": "invalid_choice"} for m in wrong],
            )
        if product.stock == 0:
            raise Conflict("This product is out of stock.", code="out_of_stock", details={"product_id": product.id})
        try:
            added = await repo.add(
                tx.conn,
                user_id=actor.user_id,
                shop_id=product.shop_id,
                product_id=product.id,
                option_ids=data.option_ids,
                quantity=data.quantity,
            )
        except asyncpg.CheckViolationError:
            raise Unprocessable(
                "A line holds at most 99.",
                code="too_many",
                details=[{"field": "quantity", "message": "at most 99 of one line", "type": "less_than_equal"}],
            ) from None
        if not added:
            raise Conflict(f"A cart holds at most {repo.MAX_LINES} lines.", code="cart_full")
        return await view(tx.conn, user_id=actor.user_id, shop_id=product.shop_id)


async def set_quantity(ctx: AppState, *, actor: Principal, line_id: uuid.UUID, quantity: int) -> Cart:
    async with ctx.db.transaction() as tx:
        shop_id = await repo.set_quantity(tx.conn, user_id=actor.user_id, line_id=line_id, quantity=quantity)
        if shop_id is None:
            raise NotFound("No such line in your cart.")
        return await view(tx.conn, user_id=actor.user_id, shop_id=shop_id)


async def remove(ctx: AppState, *, actor: Principal, line_id: uuid.UUID) -> Cart:
    async with ctx.db.transaction() as tx:
        shop_id = await repo.remove(tx.conn, user_id=actor.user_id, line_id=line_id)
        if shop_id is None:
            raise NotFound("No such line in your cart.")
        return await view(tx.conn, user_id=actor.user_id, shop_id=shop_id)


async def clear(ctx: AppState, *, actor: Principal, shop_id: uuid.UUID) -> None:
    async with ctx.db.transaction() as tx:
        await repo.clear(tx.conn, user_id=actor.user_id, shop_id=shop_id)
