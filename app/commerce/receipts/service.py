"""Receipts: a paid order's PDF, for its customer and the shop's staff, made when asked from what the
order kept (its lines and prices as they were ordered), so it never disagrees with the order. Either may
have it e-mailed to the customer's address, by a job."""

from __future__ import annotations

import uuid
import zoneinfo
from typing import Any

import asyncpg

from app.commerce.customers import service as customers
from app.commerce.notices import messages
from app.commerce.orders import repo as orders_repo
from app.commerce.orders import service as orders
from app.commerce.orders.repo import Order
from app.commerce.payments import service as payments
from app.commerce.receipts.pdf import Line, Receipt, render
from app.identity.notifications import service as notifications
from app.identity.people import service as people
from app.mall.places import service as places
from app.platform import audit, notify
from app.platform.http import Conflict
from app.platform.jobs import Job, RetryLater
from app.platform.notify import Attachment, Attempt, Content
from app.platform.security.permissions import Principal
from app.platform.state import AppState

EMAIL_JOB = "commerce.receipt_email"


def url(ctx: AppState, order_id: uuid.UUID) -> str:
    return f"{ctx.settings.base_url}/v1/orders/{order_id}/receipt"


async def receipt_pdf(ctx: AppState, *, actor: Principal, order_id: uuid.UUID) -> bytes:
    """404 for an order the caller may not see; 409 `not_paid` for one not paid."""
    order = await orders.get_order(ctx, actor=actor, order_id=order_id)
    async with ctx.db.connection() as conn:
        return await pdf_of(conn, order)


async def pdf_of(conn: asyncpg.Connection, order: Order) -> bytes:
    """The receipt of an order someone may see (the caller checked); 409 `not_paid` for one not paid."""
    payment = await payments.payment_of(conn, order.id)
    if payment is None:
        raise Conflict("This order has not been paid: a receipt comes with the payment.", code="not_paid")
    shop, mall = await places.shop_and_mall(conn, order.shop_id)
    customer = await people.person(conn, order.customer_id) if order.customer_id else None
    if customer is None and order.shop_customer_id is not None:
        customer = await customers.find(conn, order.shop_id, order.shop_customer_id)
    zone = zoneinfo.ZoneInfo(mall.timezone)
    receipt = Receipt(
        order_id=order.id,
        shop=shop.name,
        mall=mall.name,
        placed_at=order.created_at.astimezone(zone),
        timezone=mall.timezone,
        customer=customer.name if customer else None,
        lines=[
            Line(item.name, [o.name for o in item.options], item.quantity, item.unit_price, item.line_total)
            for item in order.items
        ],
        currency=order.currency,
        subtotal=order.subtotal,
        discount_percent=order.discount_percent,
        discount=order.discount,
        points_redeemed=order.points_redeemed,
        tax_rate_bp=order.tax_rate_bp,
        tax=order.tax,
        total=order.total,
        paid_with=payment.method,
        paid_at=payment.created_at.astimezone(zone),
        points_earned=order.points_earned,
    )
    return render(receipt)


async def request_email(ctx: AppState, *, actor: Principal, order_id: uuid.UUID) -> None:
    """Queue the receipt for the customer's e-mail: 409 `not_paid`, or `no_email` for a walk-in or an
    account without an address."""
    order = await orders.get_order(ctx, actor=actor, order_id=order_id)
    async with ctx.db.transaction() as tx:
        if await payments.payment_of(tx.conn, order.id) is None:
            raise Conflict("This order has not been paid: a receipt comes with the payment.", code="not_paid")
        found = await notifications.recipients(tx.conn, [order.customer_id]) if order.customer_id else []
        if not found or found[0].email is None:
            raise Conflict("The order's customer has no e-mail address to send it to.", code="no_email")
        await audit.record(
            tx.conn, actor_id=actor.user_id, action="receipt.emailed", resource_type="order", resource_id=order.id
        )
        await ctx.jobs.enqueue(tx, EMAIL_JOB, {"order_id": str(order.id)})


async def email(ctx: AppState, payload: dict[str, Any]) -> None:
    """The job: the receipt to the customer's address; tried again only after the server refused it."""
    order_id = uuid.UUID(payload["order_id"])
    async with ctx.db.connection() as conn:
        order = await orders_repo.get(conn, order_id)
        found = await notifications.recipients(conn, [order.customer_id]) if order and order.customer_id else []
        if order is None or not found or found[0].email is None:
            return
        shop, _ = await places.shop_and_mall(conn, order.shop_id)
        pdf = await pdf_of(conn, order)
    person = found[0]
    assert person.email is not None
    content = Content(
        subject=f"Your receipt from {shop.name}",
        text=f"Hello {person.name},\n\nYour receipt for order {messages.short(order)} at {shop.name} is attached."
        f"\nIt is also at {url(ctx, order.id)}",
        attachments=(Attachment(f"receipt-{order.id}.pdf", "application/pdf", pdf),),
    )
    outcome = await ctx.notifier.send(
        channel="email", to=person.email, template="receipt", data={"order_id": str(order.id)}, content=content
    )
    async with ctx.db.transaction() as tx:
        await notify.record(
            tx.conn, [Attempt(person.user_id, "email", person.email, "receipt", "order", str(order.id), outcome)]
        )
    if outcome == "failed":
        raise RetryLater("the receipt e-mail did not go")


JOBS = [Job(EMAIL_JOB, email, max_attempts=6, backoff=5.0)]
