"""Receipts: a paid order's PDF, for its customer and the shop's staff, made when asked from what the
order kept (its lines and prices as they were ordered), so it never disagrees with the order."""

from __future__ import annotations

import uuid
import zoneinfo

from app.commerce.orders import service as orders
from app.commerce.payments import service as payments
from app.commerce.receipts.pdf import Line, Receipt, render
from app.identity.people import service as people
from app.mall.places import service as places
from app.platform.http import Conflict
from app.platform.security.permissions import Principal
from app.platform.state import AppState


async def receipt_pdf(ctx: AppState, *, actor: Principal, order_id: uuid.UUID) -> bytes:
    """404 for an order the caller may not see; 409 `not_paid` for one not paid."""
    order = await orders.get_order(ctx, actor=actor, order_id=order_id)
    async with ctx.db.connection() as conn:
        payment = await payments.payment_of(conn, order.id)
        if payment is None:
            raise Conflict("This order has not been paid: a receipt comes with the payment.", code="not_paid")
        shop, mall = await places.shop_and_mall(conn, order.shop_id)
        customer = await people.person(conn, order.customer_id) if order.customer_id else None
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
