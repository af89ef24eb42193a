"""Orders: a customer orders their cart, or the counter rings up a walk-in; the server prices every line
(options, the mall's running offer, loyalty points spent, the tax rate configured), takes the stock and
the ingredients in the same transaction (never below zero: of many orders for the last units, exactly as
many succeed as there are units), and the order keeps the prices it was made with. Staff move it through
the kitchen (payments are in `checkout`, and earn points); a customer may cancel it while it is pending; a
cancelled (or returned) order gives back its stock, ingredients and points, and what it paid (online by a
refund job; at the counter, recorded as handed back). A delivery order keeps the address it goes to as it
was ordered, and leaves the kitchen's path for the carrier's: paid → shipped (with the carrier and tracking
number) → delivered, or returned. The shop's room and the customer hear of it, and the customer also by
e-mail and push (a job, `commerce.notices`). A customer's order while the shop is closed by its hours is
refused unless the shop takes pre-orders; the counter's staff are there, so hours do not bind them.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from typing import Any

import asyncpg

from app.commerce import pricing
from app.commerce.cart import repo as cart_repo
from app.commerce.catalogue import service as catalogue
from app.commerce.catalogue import stock
from app.commerce.config import service as config
from app.commerce.customers import service as customers
from app.commerce.inventory import service as inventory
from app.commerce.loyalty import service as loyalty
from app.commerce.orders import repo
from app.commerce.orders.schemas import OrderIn, OrderLineIn, OrdersQuery, ShippingAddressIn, StatusIn
from app.commerce.payments import service as payments
from app.identity.addresses import service as addresses
from app.mall.offers import service as offers
from app.mall.places import service as places
from app.platform import idempotency
from app.platform.db import Tx
from app.platform.http import Conflict, Forbidden, NotFound, Unprocessable
from app.platform.pagination import decode_cursor, page
from app.platform.realtime.rooms import user_room
from app.platform.security.permissions import Principal
from app.platform.state import AppState

STAFF = ("shop_manager", "employee")
# Who may move an order from one status to another.
CANCELS = {("pending", "cancelled"), ("paid", "cancelled")}
KITCHEN = {("paid", "preparing"), ("preparing", "ready"), ("ready", "completed")}
SHIPPING = {("paid", "shipped"), ("shipped", "delivered"), ("shipped", "returned"), ("delivered", "returned")}
CUSTOMER_MOVES = {("pending", "cancelled")}
# A move that takes the order back: its stock, ingredients and points return, and what it paid online.
UNDOING = {"cancelled", "returned"}


def staff_moves(order: repo.Order) -> set[tuple[str, str]]:
    """What the shop's staff may do with an order: a delivery goes out by a carrier, the rest through the
    kitchen."""
    return CANCELS | (SHIPPING if order.fulfilment == "delivery" else KITCHEN)


def is_staff(actor: Principal, shop_id: uuid.UUID) -> bool:
    return actor.has(STAFF, places.SHOP_SCOPE, shop_id)


def _points_holder(order: repo.Order) -> loyalty.Holder | None:
    """Whose points an order earns and spends: its account's, else its customer record's (walk-ins: none)."""
    if order.customer_id is not None:
        return loyalty.Holder(user_id=order.customer_id)
    if order.shop_customer_id is not None:
        return loyalty.Holder(record_id=order.shop_customer_id)
    return None


def _field_error(message: str, field: str, code: str, kind: str = "invalid") -> Unprocessable:
    return Unprocessable(message, code=code, details=[{"field": field, "message": message, "type": kind}])


def _announce(ctx: AppState, tx: Tx, event: str, order: repo.Order) -> None:
    ctx.outbox.publish(tx, places.room_of_shop(order.shop_id), event, order)
    if order.customer_id is not None:
        ctx.outbox.publish(tx, user_room(order.customer_id), event, order)


# The job (run by `commerce.notices`) that tells an order's customer off the app, by e-mail and push.
NEWS_JOB = "commerce.order_news"


async def _tell_customer(ctx: AppState, tx: Tx, order: repo.Order) -> None:
    """Queue the news of the order's status for its customer, with the change that made it."""
    if order.customer_id is not None:
        await ctx.jobs.enqueue(tx, NEWS_JOB, {"order_id": str(order.id), "status": order.status})


async def _lines_from_cart(tx: Tx, actor: Principal, shop_id: uuid.UUID) -> list[OrderLineIn]:
    lines = await cart_repo.lines(tx.conn, user_id=actor.user_id, shop_id=shop_id)
    if not lines:
        raise Conflict("Your cart at this shop is empty.", code="cart_empty")
    return [
        OrderLineIn(product_id=line.product_id, option_ids=line.option_ids, quantity=line.quantity) for line in lines
    ]


async def _priced(tx: Tx, shop_id: uuid.UUID, lines: list[OrderLineIn]) -> list[repo.NewLine]:
    """Each line as the catalogue has it now; 422 naming the line for a product not sold here or a choice
    it does not offer."""
    products = await catalogue.products_by_id(tx.conn, [line.product_id for line in lines])
    priced = []
    for n, line in enumerate(lines):
        product = products.get(line.product_id)
        if product is None or product.shop_id != shop_id or not product.active:
            raise _field_error("No such product on sale at this shop.", f"items.{n}.product_id", "unknown_product")
        options, wrong = pricing.choose(product, line.option_ids)
        if wrong:
            raise _field_error(" ".join(wrong), f"items.{n}.option_ids", "invalid_choice")
        priced.append(
            repo.NewLine(
                product_id=product.id,
                name=product.name,
                options=[{"id": o.id, "name": o.name, "price_delta": o.price_delta} for o in options],
                quantity=line.quantity,
                unit_price=pricing.unit_price(product, options),
                stock_taken=product.stock is not None,
            )
        )
    return priced


async def _take_stock(tx: Tx, lines: list[repo.NewLine], *, order_id: uuid.UUID, actor_id: uuid.UUID) -> None:
    wanted: dict[uuid.UUID, int] = {}
    for line in lines:
        if line.stock_taken:
            wanted[line.product_id] = wanted.get(line.product_id, 0) + line.quantity
    short = await stock.take_for_order(tx, wanted, order_id=order_id, actor_id=actor_id) if wanted else {}
    if short:
        raise Conflict(
            "Some items are not in stock in those numbers.",
            code="out_of_stock",
            details={
                "items": [
                    {"product_id": product_id, "wanted": wanted[product_id], "left": left}
                    for product_id, left in sorted(short.items())
                ]
            },
        )


async def _shipping_address(tx: Tx, data: OrderIn, customer: uuid.UUID | None) -> dict[str, Any]:
    """The address a delivery goes to, as the order keeps it: given inline, or one of the customer's saved
    ones (their default when none is named)."""
    if data.address is not None:
        return data.address.model_dump()
    saved = None
    if customer is not None:
        saved = await addresses.saved_address(tx.conn, user_id=customer, address_id=data.address_id)
    if saved is None:
        if data.address_id is not None:
            raise _field_error("No such saved address of the customer.", "address_id", "unknown_address")
        raise _field_error("A delivery needs an address: save one, or give it.", "address", "address_required")
    return {name: getattr(saved, name) for name in ShippingAddressIn.model_fields}


async def place(ctx: AppState, *, actor: Principal, data: OrderIn, attempt: idempotency.Attempt) -> tuple[int, Any]:
    """Make an order: 201 with it, the same answer for a retry with the same Idempotency-Key."""
    counter = data.items is not None
    if data.customer_id is not None and not counter:
        raise _field_error("A customer is named only on a counter order (with `items`).", "customer_id", "not_counter")
    if data.shop_customer_id is not None and not counter:
        raise _field_error(
            "A customer is named only on a counter order (with `items`).", "shop_customer_id", "not_counter"
        )
    if data.customer_id is not None and data.shop_customer_id is not None:
        raise _field_error("Name an account or a customer record, not both.", "shop_customer_id", "two_customers")
    if counter and not is_staff(actor, data.shop_id):
        raise Forbidden("Only the shop's staff ring up orders at the counter.")
    if data.redeem_points and counter and data.customer_id is None and data.shop_customer_id is None:
        raise _field_error("Points are a customer's: name the customer.", "redeem_points", "no_customer")
    if data.fulfilment != "delivery" and (data.address_id or data.address):
        raise _field_error("An address goes only with a delivery.", "address", "not_delivery")
    if data.address_id and data.address:
        raise _field_error("Give a saved address or an address, not both.", "address", "two_addresses")

    async def work(tx: Tx) -> repo.Order:
        shop, mall = await places.shop_and_mall(tx.conn, data.shop_id)
        settings = await config.settings_at(tx.conn, data.shop_id)
        if (
            not counter
            and not settings.pre_orders_enabled
            and places.is_open(shop, mall, dt.datetime.now(dt.UTC)) is False
        ):
            raise Conflict(
                "The shop is closed now and takes no orders until it opens.",
                code="shop_closed",
                details={"opening_hours": shop.hours, "timezone": mall.timezone},
            )
        wanted = data.items if data.items is not None else await _lines_from_cart(tx, actor, data.shop_id)
        customer = data.customer_id if counter else actor.user_id
        record = (
            await customers.record_at(tx.conn, data.shop_id, data.shop_customer_id) if data.shop_customer_id else None
        )
        if record is not None:
            customer = record.user_id  # the account it is linked to, if it is
        shipping = await _shipping_address(tx, data, customer) if data.fulfilment == "delivery" else None
        lines = await _priced(tx, data.shop_id, wanted)
        subtotal = sum(line.unit_price * line.quantity for line in lines)
        offer = await offers.best_running_at(tx.conn, data.shop_id)
        percent = offer.discount_percent if offer else 0
        discount = pricing.share(subtotal, percent * 100)
        points = data.redeem_points
        if points and not settings.loyalty_enabled:
            raise Conflict("This shop takes no loyalty points.", code="loyalty_off")
        if points > (most := pricing.share(subtotal - discount, settings.loyalty_redeem_max_bp)):
            raise Unprocessable(
                f"Points may pay for at most {most} of this order.",
                code="too_many_points",
                details=[{"field": "redeem_points", "message": f"at most {most}", "type": "less_than_equal"}],
            )
        rate = settings.tax_rate_bp
        tax = pricing.share(subtotal - discount - points, rate)
        order_id = await repo.insert(
            tx.conn,
            fields={
                "shop_id": data.shop_id,
                "customer_id": customer,
                "shop_customer_id": record.id if record else None,
                "placed_by": actor.user_id,
                "channel": "counter" if counter else "online",
                "currency": mall.currency,
                "subtotal": subtotal,
                "offer_id": offer.id if offer else None,
                "discount_percent": percent,
                "discount": discount,
                "tax_rate_bp": rate,
                "tax": tax,
                "points_redeemed": points,
                "total": subtotal - discount - points + tax,
                "note": data.note,
                "fulfilment": data.fulfilment,
                "shipping_address": shipping,
            },
            lines=lines,
            actor_id=actor.user_id,
        )
        await _take_stock(tx, lines, order_id=order_id, actor_id=actor.user_id)
        made_to_order = [
            (line.product_id, [o["id"] for o in line.options], line.quantity) for line in lines if not line.stock_taken
        ]
        if made_to_order:
            await inventory.take_for_order(ctx, tx, lines=made_to_order, order_id=order_id, actor_id=actor.user_id)
        if points:
            holder = loyalty.Holder(user_id=customer) if customer else loyalty.Holder(record_id=data.shop_customer_id)
            await loyalty.spend(tx.conn, holder=holder, shop_id=data.shop_id, points=points, order_id=order_id)
        if not counter:
            await cart_repo.clear(tx.conn, user_id=actor.user_id, shop_id=data.shop_id)
        order = await repo.get(tx.conn, order_id)
        assert order is not None, "written in this transaction"
        _announce(ctx, tx, "order_created", order)
        await _tell_customer(ctx, tx, order)
        return order

    async with ctx.db.transaction() as tx:
        try:
            return await idempotency.once(tx, user_id=actor.user_id, attempt=attempt, status=201, work=work)
        except asyncpg.ForeignKeyViolationError:
            raise _field_error("No such customer.", "customer_id", "unknown_customer") from None


async def received(conn: asyncpg.Connection, *, customer_id: uuid.UUID, product_id: uuid.UUID) -> bool:
    """For reviews: only a customer who received a product reviews it."""
    return await repo.received(conn, customer_id=customer_id, product_id=product_id)


def may_see(actor: Principal, order: repo.Order) -> bool:
    return order.customer_id == actor.user_id or is_staff(actor, order.shop_id)


async def get_order(ctx: AppState, *, actor: Principal, order_id: uuid.UUID) -> repo.Order:
    async with ctx.db.connection() as conn:
        order = await repo.get(conn, order_id)
    if order is None or not may_see(actor, order):
        raise NotFound("No such order.")
    return order


async def list_orders(ctx: AppState, *, actor: Principal, q: OrdersQuery) -> dict[str, Any]:
    """A shop's orders for its staff (with `shop_id`; one customer's with `customer_id` or `shop_customer_id`),
    else the caller's own; days on the shop's mall's clock, or in UTC for a customer's own across shops."""
    zone: dt.tzinfo = dt.UTC
    async with ctx.db.connection() as conn:
        if q.shop_id is not None:
            _, mall = await places.shop_and_mall(conn, q.shop_id)
            zone = zoneinfo.ZoneInfo(mall.timezone)
        if q.from_ is not None and q.to is not None and q.to < q.from_:
            raise _field_error("`to` may not be before `from`.", "to", "invalid_range")
        staff = q.shop_id is not None and is_staff(actor, q.shop_id)
        if not staff and (q.customer_id not in (None, actor.user_id) or q.shop_customer_id is not None):
            raise Forbidden("A customer's orders are for the shop's staff (with `shop_id`).")
        record = None
        if q.shop_customer_id is not None and q.shop_id is not None:
            found = await customers.record_at(conn, q.shop_id, q.shop_customer_id)
            record = (found.id, found.user_id)
        items = await repo.list_orders(
            conn,
            shop_id=q.shop_id,
            customer_id=q.customer_id if staff else actor.user_id,
            record=record,
            status=q.status,
            since=dt.datetime.combine(q.from_, dt.time(), zone) if q.from_ else None,
            until=dt.datetime.combine(q.to + dt.timedelta(days=1), dt.time(), zone) if q.to else None,
            after=decode_cursor(q.cursor),
            limit=q.limit,
        )
    return page(items, q.limit, lambda o: (o.created_at, o.id))


async def move(
    ctx: AppState, *, actor: Principal, order_id: uuid.UUID, data: StatusIn, attempt: idempotency.Attempt
) -> tuple[int, Any]:
    """Move an order along (409 `invalid_move` for a move its status does not allow, 403 for one the caller
    may not make); a cancellation gives the stock back."""
    async with ctx.db.transaction() as tx:
        order = await locked(tx, actor, order_id)

        async def work(tx: Tx) -> repo.Order:
            step, moves = (order.status, data.to), staff_moves(order)
            allowed = (is_staff(actor, order.shop_id) and step in moves) or (
                order.customer_id == actor.user_id and step in CUSTOMER_MOVES
            )
            if step not in moves:
                raise Conflict(
                    f"A {order.fulfilment} order that is {order.status} cannot become {data.to}.",
                    code="invalid_move",
                    details={"status": order.status, "allowed": sorted(to for (at, to) in moves if at == order.status)},
                )
            if not allowed:
                raise Forbidden("You may not make this move.")
            shipment = (data.carrier, data.tracking_number)
            if data.to == "shipped" and None in shipment:
                raise _field_error("Name the carrier and its tracking number.", "tracking_number", "shipment_required")
            if data.to != "shipped" and shipment != (None, None):
                raise _field_error("A carrier goes only with `shipped`.", "carrier", "not_shipping")
            moved = await repo.move(
                tx.conn, order_id=order_id, expected=order.status, to=data.to, actor_id=actor.user_id, note=data.note
            )
            assert moved, "the order is locked in this transaction"
            if data.carrier is not None and data.tracking_number is not None:
                await repo.set_shipment(tx.conn, order_id, carrier=data.carrier, tracking_number=data.tracking_number)
            if data.to in UNDOING:
                await stock.return_for_order(tx, order_id=order_id, actor_id=actor.user_id)
                await inventory.return_for_order(ctx, tx, order_id=order_id, actor_id=actor.user_id)
                await payments.give_back(ctx, tx, order_id)
                if (holder := _points_holder(order)) is not None:
                    await loyalty.undo(
                        tx.conn,
                        holder=holder,
                        shop_id=order.shop_id,
                        spent=order.points_redeemed,
                        earned=order.points_earned,
                        order_id=order_id,
                    )
            updated = await repo.get(tx.conn, order_id)
            assert updated is not None, "found in this transaction"
            _announce(ctx, tx, "order_status_changed", updated)
            await _tell_customer(ctx, tx, updated)
            return updated

        return await idempotency.once(tx, user_id=actor.user_id, attempt=attempt, status=200, work=work)


async def locked(tx: Tx, actor: Principal | None, order_id: uuid.UUID) -> repo.Order:
    """The order, locked for a change in `tx`; 404 unless `actor` (if any) may see it."""
    order = await repo.get(tx.conn, order_id, lock=True)
    if order is None or (actor is not None and not may_see(actor, order)):
        raise NotFound("No such order.")
    return order


async def mark_paid(ctx: AppState, tx: Tx, order: repo.Order, *, by: uuid.UUID | None) -> repo.Order:
    """A pending order (locked in `tx`) was paid in full: it moves to paid, its customer earns points, and
    the shop and the customer hear of it."""
    moved = await repo.move(tx.conn, order_id=order.id, expected="pending", to="paid", actor_id=by, note=None)
    assert moved, "the order is locked and pending"
    if (holder := _points_holder(order)) is not None:
        settings = await config.settings_at(tx.conn, order.shop_id)
        if settings.loyalty_enabled and (earned := pricing.share(order.total, settings.loyalty_earn_bp)):
            await loyalty.earn(tx.conn, holder=holder, shop_id=order.shop_id, points=earned, order_id=order.id)
            await repo.set_points_earned(tx.conn, order.id, earned)
    updated = await repo.get(tx.conn, order.id)
    assert updated is not None, "found in this transaction"
    _announce(ctx, tx, "payment_received", updated)
    _announce(ctx, tx, "order_status_changed", updated)
    await _tell_customer(ctx, tx, updated)
    return updated
