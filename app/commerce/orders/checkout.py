"""Paying for an order: staff record cash or card at the counter; online, the customer's app pays a payment
intent at the provider (Stripe), and the provider's signed webhook marks the order paid.

The webhook is the one word on an online payment: it is verified (signature, and a timestamp at most
STRIPE_WEBHOOK_TOLERANCE seconds old), noted by its event id in the same transaction as what it does, so a
redelivery or a replay changes nothing, and answered 200 for every event Gatehouse has taken in (the
provider retries anything else). Money that comes in for an order that can no longer take it (cancelled
meanwhile, or paid at the counter) goes back by a refund job.
"""

from __future__ import annotations

import uuid
from typing import Any

import structlog

from app.commerce.config import service as config
from app.commerce.orders import repo, service
from app.commerce.orders.schemas import PaymentIn
from app.commerce.payments import service as payments
from app.mall.places import service as places
from app.platform import audit, idempotency
from app.platform.db import Tx
from app.platform.http import BadRequest, Conflict, Forbidden, NotFound, Unavailable, Unprocessable
from app.platform.payments import BadSignature, GatewayError, WebhookEvent
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


async def start_online(ctx: AppState, *, actor: Principal, order_id: uuid.UUID) -> payments.repo.PaymentIntent:
    """The payment intent for the caller's pending order, made at the provider the first time (with the
    order's total, and a key that makes the provider answer a repeat with the same intent)."""
    gateway = ctx.payments
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
            raise Conflict("This shop takes no online payments; pay at the counter.", code="online_payments_off")
        if (kept := await payments.intent_of(conn, order_id)) is not None:
            return kept
    # Not in a transaction: no lock is held while the provider answers.
    try:
        intent = await gateway.create_intent(
            amount=order.total,
            currency=order.currency,
            idempotency_key=f"gatehouse-order-{order.id}",
            metadata={"order_id": str(order.id), "shop_id": str(order.shop_id)},
        )
    except GatewayError as exc:
        log.warning("payment_intent_failed", order_id=str(order.id), error=str(exc))
        raise Unavailable("The payment provider could not be reached; try again.") from exc
    async with ctx.db.connection() as conn:
        return await payments.keep_intent(
            conn,
            order_id=order.id,
            provider=gateway.name,
            intent_id=intent.id,
            client_secret=intent.client_secret,
            amount=intent.amount,
            currency=intent.currency,
            status=intent.status,
        )


async def stripe_webhook(ctx: AppState, *, payload: bytes, signature: str | None) -> dict[str, Any]:
    """Take in one of the provider's events: 400 unless signed by it and fresh; a repeat does nothing."""
    gateway = ctx.payments
    if gateway is None:
        # Stripe retries whatever is not 2xx for days, so nothing is lost while a deployment is set up.
        raise NotFound("Online payments are not configured here.", code="payments_not_configured")
    try:
        event = gateway.verify(payload, signature)
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
    thing = event.object
    if event.type.startswith("refund.") or event.type == "charge.refund.updated":
        if isinstance(thing.get("id"), str) and isinstance(thing.get("status"), str):
            settled = await payments.refund_settled(ctx, tx, provider_ref=thing["id"], provider_status=thing["status"])
            return "recorded" if settled else "ignored"
        return "ignored"
    if not event.type.startswith("payment_intent.") or not isinstance(intent_id := thing.get("id"), str):
        return "ignored"
    order_id = await payments.order_of_intent(tx.conn, provider, intent_id)
    if order_id is None:
        return "unknown_intent"
    if isinstance(status := thing.get("status"), str):
        await payments.set_intent_status(tx.conn, provider, intent_id, status)
    if event.type != "payment_intent.succeeded":
        return "recorded"
    order = await service.locked(tx, None, order_id)
    received = thing.get("amount_received")
    currency = str(thing.get("currency", "")).upper()
    if not isinstance(received, int) or received <= 0:
        return "ignored"
    paid = await payments.payment_of(tx.conn, order.id)
    if paid is not None and paid.provider_ref == intent_id:
        return "already_paid"  # another event about the payment this intent already made: nothing to do
    if order.status == "pending" and received == order.total and currency == order.currency:
        await payments.record(
            tx.conn,
            order_id=order.id,
            method=provider,
            amount=received,
            currency=currency,
            by=None,
            provider_ref=intent_id,
        )
        await service.mark_paid(ctx, tx, order, by=None)
        return "paid"
    # The order cannot take this money (cancelled meanwhile, paid at the counter, or not this amount): back.
    await payments.refund(
        ctx,
        tx,
        order_id=order.id,
        provider=provider,
        intent_id=intent_id,
        amount=received,
        currency=order.currency,
        reason="not_payable",
    )
    return "refunding"
