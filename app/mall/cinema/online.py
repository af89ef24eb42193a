"""Paying a ticket reservation online, through the same providers as the shops: the buyer starts an intent
at the provider they choose while the seats are held, and the provider's webhook (taken in, verified and
deduplicated, where the shops' payments are, and handed here for an intent that is a checkout's) marks the
checkout paid; the seats stay taken. Money that comes in for a checkout that can no longer take it (its
hold ran out and the sweep let the seats go, or it was cancelled or paid at the counter) goes back, and so
does a paid-online checkout's when it is refunded: a row and a durable job that asks the provider, again
after a backoff while it cannot be reached. A refund at the counter is recorded as the money move it is."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import structlog

from app.mall.cinema import online_repo, repo
from app.mall.cinema.checkouts import is_cinema_staff, tell
from app.platform.db import Tx
from app.platform.http import Conflict, Forbidden, NotFound
from app.platform.jobs import Job
from app.platform.payments import PROVIDERS, PaymentNews, ask_intent, ask_refund
from app.platform.security.permissions import Principal
from app.platform.state import AppState

log = structlog.get_logger(__name__)

REFUND_JOB = "mall.ticket_refund"


def _held(checkout: repo.TicketCheckout) -> bool:
    return checkout.status == "reserved" and (
        checkout.expires_at is None or checkout.expires_at > dt.datetime.now(dt.UTC)
    )


async def start(
    ctx: AppState, *, actor: Principal, checkout_id: uuid.UUID, provider: str | None
) -> online_repo.TicketIntent:
    """The intent for the caller's held reservation at `provider` (the first configured when None), made
    there once, for the checkout's total, with a key that makes the provider answer a repeat the same."""
    gateway = ctx.payments.get(provider)
    async with ctx.db.connection() as conn:
        checkout = await repo.checkout(conn, checkout_id)
        if checkout is None or not (checkout.user_id == actor.user_id or is_cinema_staff(actor, checkout)):
            raise NotFound("No such ticket checkout.")
        if checkout.user_id != actor.user_id:
            raise Forbidden("Only the checkout's buyer pays it online.")
        if not _held(checkout):
            raise Conflict(f"This checkout is {checkout.status}: the seats are not held for it.", code="not_payable")
        if checkout.total <= 0:
            raise Conflict("These tickets cost nothing: there is nothing to pay.", code="nothing_to_pay")
        if gateway is None:
            raise Conflict(
                "This server takes no online payments through that provider; pay at the cinema.",
                code="online_payments_off",
                details={"providers": ctx.payments.names()},
            )
        if (kept := await online_repo.intent_of(conn, checkout_id, gateway.name)) is not None:
            return kept
    intent = await ask_intent(
        gateway,
        amount=checkout.total,
        currency=checkout.currency,
        idempotency_key=f"gatehouse-tickets-{checkout.id}",
        metadata={"checkout_id": str(checkout.id), "showing_id": str(checkout.showing_id)},
    )
    async with ctx.db.connection() as conn:
        return await online_repo.keep_intent(conn, checkout_id=checkout.id, provider=gateway.name, intent=intent)


async def take_payment(ctx: AppState, tx: Tx, *, provider: str, news: PaymentNews) -> str | None:
    """A webhook's news of an intent, if it is a checkout's (None when it is not): the outcome, kept with the
    event."""
    checkout_id = await online_repo.checkout_of_intent(tx.conn, provider, news.intent_id)
    if checkout_id is None:
        return None
    if news.status is not None:
        await online_repo.set_intent_status(tx.conn, provider, news.intent_id, news.status)
    if not news.succeeded:
        return "recorded"
    if news.amount <= 0 or not news.payment_ref:
        return "ignored"
    checkout = await repo.checkout(tx.conn, checkout_id, lock=True)
    assert checkout is not None, "an intent's checkout is deleted with it"
    if await online_repo.payment_ref_of(tx.conn, checkout_id) == news.payment_ref:
        return "already_paid"
    # A reservation the sweep has not reached yet still holds its seats: it takes the money.
    if checkout.status == "reserved" and news.amount == checkout.total and news.currency == checkout.currency:
        await online_repo.mark_paid_online(tx.conn, checkout_id, provider=provider, payment_ref=news.payment_ref)
        paid = await repo.checkout(tx.conn, checkout_id)
        assert paid is not None, "locked in this transaction"
        tell(ctx, tx, paid, seats_changed=False)
        return "paid"
    await _refund(
        ctx, tx, checkout, provider=provider, payment_ref=news.payment_ref, amount=news.amount, reason="not_payable"
    )
    return "refunding"


async def give_back(ctx: AppState, tx: Tx, checkout: repo.TicketCheckout) -> None:
    """A paid checkout (locked in `tx`) is being refunded: through its provider when paid online, else
    recorded as handed back at the counter (one bought before payment methods were kept records none)."""
    if checkout.payment_method is None or checkout.total <= 0:
        return
    payment_ref = await online_repo.payment_ref_of(tx.conn, checkout.id)
    await _refund(
        ctx,
        tx,
        checkout,
        provider=checkout.payment_method,
        payment_ref=payment_ref,
        amount=checkout.total,
        reason="refunded",
    )


def paid_online(checkout: repo.TicketCheckout) -> bool:
    return checkout.payment_method in PROVIDERS


async def _refund(
    ctx: AppState,
    tx: Tx,
    checkout: repo.TicketCheckout,
    *,
    provider: str,
    payment_ref: str | None,
    amount: int,
    reason: str,
) -> None:
    refund_id = await online_repo.insert_refund(
        tx.conn,
        checkout_id=checkout.id,
        provider=provider,
        payment_ref=payment_ref,
        amount=amount,
        currency=checkout.currency,
        reason=reason,
    )
    if refund_id is not None and payment_ref is not None:
        await ctx.jobs.enqueue(tx, REFUND_JOB, {"refund_id": str(refund_id)})


async def refund_settled(ctx: AppState, tx: Tx, *, provider_ref: str, status: str) -> bool:
    """A webhook's word on a refund; False when it is not a ticket refund, or tells nothing new."""
    return await online_repo.settle_refund(tx.conn, provider_ref=provider_ref, status=status)


async def _run_refund(ctx: AppState, payload: dict[str, Any]) -> None:
    refund_id = uuid.UUID(payload["refund_id"])
    async with ctx.db.connection() as conn:
        work = await online_repo.refund_work(conn, refund_id)
    if work is None or work.status != "pending":
        return
    provider_ref, status, error = await ask_refund(
        ctx.payments,
        provider=work.provider,
        payment_ref=work.payment_ref,
        amount=work.amount,
        idempotency_key=f"gatehouse-ticket-refund-{refund_id}",
    )
    if error is not None:
        log.warning("ticket_refund_refused", refund_id=str(refund_id), error=error)
    async with ctx.db.transaction() as tx:
        await online_repo.settle_refund(
            tx.conn, refund_id=refund_id, provider_ref=provider_ref, status=status, error=error
        )


JOBS = [Job(REFUND_JOB, _run_refund, max_attempts=12, timeout=90.0, backoff=5.0)]
