"""Money for orders: payments (recorded at the counter, or by a provider's webhook), the providers' payment
intents, the webhook events already processed, and refunds. A refund through a provider is a row and a
durable job that asks the provider for it, again after a backoff while the provider cannot be reached, so
the money of a cancelled order goes back even when the provider is down at that moment; one handed back at
the counter is a row, done as it is recorded. The shop and the customer hear how each went."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import structlog

from app.commerce.payments import repo
from app.mall.places import service as places
from app.platform.db import Tx
from app.platform.jobs import Job
from app.platform.payments import ask_refund
from app.platform.realtime.rooms import user_room
from app.platform.state import AppState

log = structlog.get_logger(__name__)

REFUND_JOB = "commerce.refund"

payment_of = repo.payment_of
intent_of = repo.intent_of
keep_intent = repo.keep_intent
order_of_intent = repo.order_of_intent
set_intent_status = repo.set_intent_status
first_sight = repo.first_sight
set_outcome = repo.set_outcome


async def record(
    conn: asyncpg.Connection,
    *,
    order_id: uuid.UUID,
    method: str,
    amount: int,
    currency: str,
    by: uuid.UUID | None,
    provider_ref: str | None = None,
) -> repo.Payment | None:
    """The order's one payment; None when it has one already."""
    return await repo.insert_payment(
        conn, order_id=order_id, method=method, amount=amount, currency=currency, by=by, provider_ref=provider_ref
    )


async def refund(
    ctx: AppState,
    tx: Tx,
    *,
    order_id: uuid.UUID,
    provider: str,
    intent_id: str,
    amount: int,
    currency: str,
    reason: str,
) -> None:
    """Give a provider payment back (once per payment, whoever asks twice), by a job that runs after `tx`."""
    refund_id = await repo.insert_refund(
        tx.conn,
        order_id=order_id,
        provider=provider,
        intent_id=intent_id,
        amount=amount,
        currency=currency,
        reason=reason,
    )
    if refund_id is not None:
        await ctx.jobs.enqueue(tx, REFUND_JOB, {"refund_id": str(refund_id)})


async def give_back(ctx: AppState, tx: Tx, order_id: uuid.UUID) -> None:
    """For a cancelled or returned order: what it paid goes back, through its provider by a job, or (cash,
    card, wallet) by the staff at the counter, recorded now as the refund it is."""
    payment = await repo.payment_of(tx.conn, order_id)
    if payment is None:
        return
    if payment.provider_ref is not None:
        await refund(
            ctx,
            tx,
            order_id=order_id,
            provider=payment.method,
            intent_id=payment.provider_ref,
            amount=payment.amount,
            currency=payment.currency,
            reason="cancelled",
        )
        return
    handed = await repo.insert_counter_refund(
        tx.conn,
        order_id=order_id,
        method=payment.method,
        amount=payment.amount,
        currency=payment.currency,
        reason="cancelled",
    )
    if handed is not None:
        _announce(ctx, tx, handed)


def _announce(ctx: AppState, tx: Tx, refund: repo.Refund) -> None:
    ctx.outbox.publish(tx, places.room_of_shop(refund.shop_id), "refund_updated", refund)
    if refund.customer_id is not None:
        ctx.outbox.publish(tx, user_room(refund.customer_id), "refund_updated", refund)


async def refund_settled(ctx: AppState, tx: Tx, *, provider_ref: str, status: str) -> bool:
    """A webhook's word on a refund; False when it is not ours, or tells nothing new."""
    settled = await repo.settle_refund(tx.conn, provider_ref=provider_ref, status=status)
    if settled is not None:
        _announce(ctx, tx, settled)
    return settled is not None


async def _run_refund(ctx: AppState, payload: dict[str, Any]) -> None:
    refund_id = uuid.UUID(payload["refund_id"])
    async with ctx.db.connection() as conn:
        work = await repo.refund_work(conn, refund_id)
    if work is None or work.status != "pending":
        return
    provider_ref, status, error = await ask_refund(
        ctx.payments,
        provider=work.provider,
        payment_ref=work.intent_id,
        amount=work.amount,
        idempotency_key=f"gatehouse-refund-{refund_id}",
    )
    if error is not None:
        log.warning("refund_refused", refund_id=str(refund_id), error=error)
    async with ctx.db.transaction() as tx:
        settled = await repo.settle_refund(
            tx.conn, refund_id=refund_id, provider_ref=provider_ref, status=status, error=error
        )
        if settled is not None:
            _announce(ctx, tx, settled)


JOBS = [Job(REFUND_JOB, _run_refund, max_attempts=12, timeout=90.0, backoff=5.0)]
