"""Paying for an order: staff record cash, card or wallet at the counter; online, the customer pays an intent
at the provider they choose (Stripe in their app, Razorpay on its page), and the provider's signed webhook
marks the order paid.

The webhook is the one word on an online payment: it is verified by its provider's rules (Stripe's signature
with a timestamp at most STRIPE_WEBHOOK_TOLERANCE seconds old; Razorpay's HMAC of the body), noted by its
event id in the same transaction as what it does, so a redelivery or a replay changes nothing, and answered
200 for every event Gatehouse has taken in (the provider retries anything else). Money that comes in for an
order that can no longer take it (cancelled meanwhile, paid at the counter or at the other provider) goes
back by a refund job. The same webhooks carry the mall's ticket checkouts' payments: an intent that is not
an order's is handed to the cinema's service.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import structlog

from app.commerce.config import service as config
from app.commerce.orders import repo, service
from app.commerce.orders.schemas import PaymentIn
from app.commerce.payments import service as payments
from app.mall.cinema import service as cinema
from app.mall.places import service as places
from app.platform import audit, idempotency
from app.platform.db import Tx
from app.platform.http import BadRequest, Conflict, Forbidden, NotFound, Unprocessable
from app.platform.payments import BadSignature, PaymentNews, WebhookEvent, ask_intent, signed_for
from app.platform.security.permissions import Principal
from app.platform.state import AppState

log = structlog.get_logger(__name__)


async def pay(
    ctx: AppState, *, actor: Principal, order_id: uuid.UUID, data: PaymentIn, attempt: idempotency.Attempt
) -> tuple[int, Any]:
    """Staff record a cash or card payment of a pending order's total; the order is paid."""
    async with ctx.db.transaction() as tx:
        order = await service.locked(tx, actor, order_id)
        if not service.is_staff(actor, order.shop_id):
            raise Forbidden("Only the shop's staff record payments.")

        async def work(tx: Tx) -> payments.repo.Payment:
            if order.status != "pending":
                raise Conflict(f"The order is {order.status}, not waiting for payment.", code="not_payable")
            if data.amount != order.total:
                raise Unprocessable(
                    "The amount must be the order's total.",
                    code="amount_mismatch",
                    details=[{"field": "amount", "message": f"the total is {order.total}", "type": "amount_mismatch"}],
                )
            payment = await payments.record(
                tx.conn,
                order_id=order.id,
                method=data.method,
                amount=data.amount,
                currency=order.currency,
                by=actor.user_id,
            )
            assert payment is not None, "a pending order has no payment"
            await service.mark_paid(ctx, tx, order, by=actor.user_id)
            await audit.record(
                tx.conn,
                actor_id=actor.user_id,
                where=await places.shop_scope(tx.conn, order.shop_id),
                action="payment.recorded",
                resource_type="order",
                resource_id=order_id,
            )
            return payment

        return await idempotency.once(tx, user_id=actor.user_id, attempt=attempt, status=201, work=work)


async def start_online(
    ctx: AppState, *, actor: Principal, order_id: uuid.UUID, provider: str | None
) -> payments.repo.PaymentIntent:
    """The payment intent for the caller's pending order at `provider` (the first configured when None),
    made there the first time (with the order's total, and a key that makes the provider answer a repeat
    with the same intent)."""
    gateway = ctx.payments.get(provider)
    async with ctx.db.connection() as conn:
        order = await repo.get(conn, order_id)
        if order is None or not service.may_see(actor, order):
            raise NotFound("No such order.")
        if order.customer_id != actor.user_id:
            raise Forbidden("Only the order's customer pays it online.")
        if order.status != "pending":
            raise Conflict(f"The order is {order.status}, not waiting for payment.", code="not_payable")
        settings = await config.settings_at(conn, order.shop_id)
        if gateway is None or not settings.online_payments_enabled:
            raise Conflict(
                "This shop takes no online payments through that provider; pay at the counter.",
                code="online_payments_off",
                details={"providers": ctx.payments.names() if settings.online_payments_enabled else []},
            )
        if (kept := await payments.intent_of(conn, order_id, gateway.name)) is not None:
            return kept
    intent = await ask_intent(
        gateway,
        amount=order.total,
        currency=order.currency,
        idempotency_key=f"gatehouse-order-{order.id}",
        metadata={"order_id": str(order.id), "shop_id": str(order.shop_id)},
    )
    async with ctx.db.connection() as conn:
        return await payments.keep_intent(
            conn,
            order_id=order.id,
            provider=gateway.name,
            intent_id=intent.id,
            client_secret=intent.client_secret,
            payment_url=intent.payment_url,
            amount=intent.amount,
            currency=intent.currency,
            status=intent.status,
        )


async def webhook(ctx: AppState, *, provider: str, payload: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
    """Take in one of a provider's events: 400 unless signed by it (and, for Stripe, fresh); a repeat does
    nothing."""
    gateway = ctx.payments.get(provider)
    if gateway is None:
        # Providers retry whatever is not 2xx for a day or more, so nothing is lost while one is set up.
        raise NotFound("Online payments through this provider are not configured here.", code="payments_not_configured")
    if not headers.get(gateway.signature_header) and (other := signed_for(headers)) is not None:
        raise BadRequest(
            f"This is signed as {other} signs its webhooks; this address takes {provider}'s only.",
            code="wrong_provider",
        )
    try:
        event = gateway.verify(payload, headers)
    except BadSignature as exc:
        raise BadRequest(str(exc), code="bad_signature") from None
    async with ctx.db.transaction() as tx:
        if not await payments.first_sight(tx.conn, provider=gateway.name, event_id=event.id, type_=event.type):
            return {"received": True, "duplicate": True}
        outcome = await _take_in(ctx, tx, gateway.name, event)
        await payments.set_outcome(tx.conn, provider=gateway.name, event_id=event.id, outcome=outcome)
    log.info("payment_webhook", provider=gateway.name, event_id=event.id, type=event.type, outcome=outcome)
    return {"received": True, "duplicate": False}


async def _take_in(ctx: AppState, tx: Tx, provider: str, event: WebhookEvent) -> str:
    """What an event does; returns its outcome, kept with the event."""
    if event.refund is not None:
        news = event.refund
        if await payments.refund_settled(ctx, tx, provider_ref=news.refund_ref, status=news.status):
            return "recorded"
        settled = await cinema.ticket_refund_settled(ctx, tx, provider_ref=news.refund_ref, status=news.status)
        return "recorded" if settled else "ignored"
    if event.payment is None:
        return "ignored"
    news = event.payment
    order_id = await payments.order_of_intent(tx.conn, provider, news.intent_id)
    if order_id is None:
        outcome = await cinema.take_online_payment(ctx, tx, provider=provider, news=news)
        return outcome or "unknown_intent"
    if news.status is not None:
        await payments.set_intent_status(tx.conn, provider, news.intent_id, news.status)
    if not news.succeeded:
        return "recorded"
    if news.amount <= 0 or not news.payment_ref:
        return "ignored"
    return await _paid(ctx, tx, provider, order_id, news)


async def _paid(ctx: AppState, tx: Tx, provider: str, order_id: uuid.UUID, news: PaymentNews) -> str:
    """Money came in for an order: it is paid, or (when it cannot take it) the money goes back."""
    order = await service.locked(tx, None, order_id)
    paid = await payments.payment_of(tx.conn, order.id)
    if paid is not None and paid.provider_ref == news.payment_ref:
        return "already_paid"  # another event about the payment that paid the order: nothing to do
    if order.status == "pending" and news.amount == order.total and news.currency == order.currency:
        await payments.record(
            tx.conn,
            order_id=order.id,
            method=provider,
            amount=news.amount,
            currency=news.currency,
            by=None,
            provider_ref=news.payment_ref,
        )
        await service.mark_paid(ctx, tx, order, by=None)
        return "paid"
    # The order cannot take this money (cancelled meanwhile, paid otherwise, or not this amount): back.
    await payments.refund(
        ctx,
        tx,
        order_id=order.id,
        provider=provider,
        intent_id=news.payment_ref,
        amount=news.amount,
        currency=order.currency,
        reason="not_payable",
    )
    return "refunding"
