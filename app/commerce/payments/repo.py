"""SQL for money taken and given back: payments, the provider's payment intents, the webhook events
already processed, and refunds."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import asyncpg


@dataclass(frozen=True, slots=True)
class Payment:
    id: uuid.UUID
    order_id: uuid.UUID
    method: str
    amount: int
    currency: str
    provider_ref: str | None
    recorded_by: uuid.UUID | None
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class PaymentIntent:
    """What a customer needs to pay an order at a provider: Stripe's `client_secret` completes `intent_id` in
    the customer's app; Razorpay's `payment_url` is the page the customer pays on."""

    order_id: uuid.UUID
    provider: str
    intent_id: str
    client_secret: str | None
    payment_url: str | None
    amount: int
    currency: str
    status: str
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Refund:
    id: uuid.UUID
    order_id: uuid.UUID
    shop_id: uuid.UUID
    customer_id: uuid.UUID | None
    provider: str
    amount: int
    currency: str
    reason: str
    status: str
    error: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


_PAYMENT = "id, order_id, method, amount, currency, provider_ref, recorded_by, created_at"
_INTENT = "order_id, provider, intent_id, client_secret, payment_url, amount, currency, status, created_at"


async def insert_payment(
    conn: asyncpg.Connection,
    *,
    order_id: uuid.UUID,
    method: str,
    amount: int,
    currency: str,
    by: uuid.UUID | None,
    provider_ref: str | None = None,
) -> Payment | None:
    """None when the order has a payment already."""
    row = await conn.fetchrow(
        f"""INSERT INTO payments (order_id, method, amount, currency, recorded_by, provider_ref)
            VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (order_id) DO NOTHING RETURNING {_PAYMENT}""",
        order_id,
        method,
        amount,
        currency,
        by,
        provider_ref,
    )
    return Payment(**dict(row)) if row else None


async def payment_of(conn: asyncpg.Connection, order_id: uuid.UUID) -> Payment | None:
    row = await conn.fetchrow(f"SELECT {_PAYMENT} FROM payments WHERE order_id = $1", order_id)
    return Payment(**dict(row)) if row else None


async def intent_of(conn: asyncpg.Connection, order_id: uuid.UUID, provider: str) -> PaymentIntent | None:
    row = await conn.fetchrow(
        f"SELECT {_INTENT} FROM payment_intents WHERE order_id = $1 AND provider = $2", order_id, provider
    )
    return PaymentIntent(**dict(row)) if row else None


async def order_of_intent(conn: asyncpg.Connection, provider: str, intent_id: str) -> uuid.UUID | None:
    return await conn.fetchval(
        "SELECT order_id FROM payment_intents WHERE provider = $1 AND intent_id = $2", provider, intent_id
    )


async def keep_intent(
    conn: asyncpg.Connection,
    *,
    order_id: uuid.UUID,
    provider: str,
    intent_id: str,
    client_secret: str | None,
    payment_url: str | None,
    amount: int,
    currency: str,
    status: str,
) -> PaymentIntent:
    """The order's intent at this provider: this one, or the one a parallel request kept first."""
    await conn.execute(
        """INSERT INTO payment_intents
               (order_id, provider, intent_id, client_secret, payment_url, amount, currency, status)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (order_id, provider) DO NOTHING""",
        order_id,
        provider,
        intent_id,
        client_secret,
        payment_url,
        amount,
        currency,
        status,
    )
    kept = await intent_of(conn, order_id, provider)
    assert kept is not None, "inserted or already there"
    return kept


async def set_intent_status(conn: asyncpg.Connection, provider: str, intent_id: str, status: str) -> None:
    await conn.execute(
        "UPDATE payment_intents SET status = $3, updated_at = now() WHERE provider = $1 AND intent_id = $2",
        provider,
        intent_id,
        status,
    )


async def first_sight(conn: asyncpg.Connection, *, provider: str, event_id: str, type_: str) -> bool:
    """Note a webhook event; False when it was noted before (a redelivery, or a replay)."""
    noted = await conn.fetchval(
        """INSERT INTO webhook_events (provider, event_id, type, outcome) VALUES ($1, $2, $3, 'received')
           ON CONFLICT DO NOTHING RETURNING true""",
        provider,
        event_id,
        type_,
    )
    return bool(noted)


async def set_outcome(conn: asyncpg.Connection, *, provider: str, event_id: str, outcome: str) -> None:
    await conn.execute(
        "UPDATE webhook_events SET outcome = $3 WHERE provider = $1 AND event_id = $2", provider, event_id, outcome
    )


async def insert_refund(
    conn: asyncpg.Connection,
    *,
    order_id: uuid.UUID,
    provider: str,
    intent_id: str,
    amount: int,
    currency: str,
    reason: str,
) -> uuid.UUID | None:
    """A refund through the provider of its payment `intent_id`; None when that one is being refunded already."""
    return await conn.fetchval(
        """INSERT INTO refunds (order_id, provider, intent_id, amount, currency, reason)
           VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (intent_id) DO NOTHING RETURNING id""",
        order_id,
        provider,
        intent_id,
        amount,
        currency,
        reason,
    )


async def insert_counter_refund(
    conn: asyncpg.Connection, *, order_id: uuid.UUID, method: str, amount: int, currency: str, reason: str
) -> Refund | None:
    """Money handed back at the counter, done as it is recorded; None when the order's was recorded already."""
    row = await conn.fetchrow(
        """WITH r AS (
               INSERT INTO refunds (order_id, provider, amount, currency, reason, status)
               VALUES ($1, $2, $3, $4, $5, 'succeeded') ON CONFLICT DO NOTHING RETURNING *)
           SELECT r.id, r.order_id, o.shop_id, o.customer_id, r.provider, r.amount, r.currency, r.reason, r.status,
                  r.error, r.created_at, r.updated_at
           FROM r JOIN orders o ON o.id = r.order_id""",
        order_id,
        method,
        amount,
        currency,
        reason,
    )
    return Refund(**dict(row)) if row else None


@dataclass(frozen=True, slots=True)
class RefundWork:
    id: uuid.UUID
    provider: str
    intent_id: str
    amount: int
    status: str


async def refund_work(conn: asyncpg.Connection, refund_id: uuid.UUID) -> RefundWork | None:
    row = await conn.fetchrow("SELECT id, provider, intent_id, amount, status FROM refunds WHERE id = $1", refund_id)
    return RefundWork(**dict(row)) if row else None


async def settle_refund(
    conn: asyncpg.Connection,
    *,
    refund_id: uuid.UUID | None = None,
    provider_ref: str | None,
    status: str,
    error: str | None = None,
) -> Refund | None:
    """Record what the provider says of a refund, found by our id (after asking for it) or by the provider's
    (a webhook); None when there is no such refund, or it says so already."""
    row = await conn.fetchrow(
        """WITH r AS (
               UPDATE refunds SET provider_ref = $2, status = $3, error = $4, updated_at = now()
               WHERE (id = $1 OR ($1::uuid IS NULL AND provider_ref = $2))
                 AND (status, provider_ref, error) IS DISTINCT FROM ($3, $2, $4)
               RETURNING *)
           SELECT r.id, r.order_id, o.shop_id, o.customer_id, r.provider, r.amount, r.currency, r.reason, r.status,
                  r.error, r.created_at, r.updated_at
           FROM r JOIN orders o ON o.id = r.order_id""",
        refund_id,
        provider_ref,
        status,
        error,
    )
    return Refund(**dict(row)) if row else None
