"""SQL for paying ticket checkouts through a provider: the intents made for them, the provider's payment
kept with a checkout it paid, and the refunds of paid checkouts (at the counter, or through the provider)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import asyncpg

from app.platform.payments import Intent


@dataclass(frozen=True, slots=True)
class TicketIntent:
    """What a buyer needs to pay a reservation at a provider: Stripe's `client_secret` completes `intent_id`
    in the buyer's app; Razorpay's `payment_url` is the page the buyer pays on."""

    checkout_id: uuid.UUID
    provider: str
    intent_id: str
    client_secret: str | None
    payment_url: str | None
    amount: int
    currency: str
    status: str
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class RefundWork:
    id: uuid.UUID
    provider: str
    payment_ref: str
    amount: int
    status: str


_INTENT = "checkout_id, provider, intent_id, client_secret, payment_url, amount, currency, status, created_at"


async def intent_of(conn: asyncpg.Connection, checkout_id: uuid.UUID, provider: str) -> TicketIntent | None:
    row = await conn.fetchrow(
        f"SELECT {_INTENT} FROM ticket_payment_intents WHERE checkout_id = $1 AND provider = $2",
        checkout_id,
        provider,
    )
    return TicketIntent(**dict(row)) if row else None


async def keep_intent(
    conn: asyncpg.Connection, *, checkout_id: uuid.UUID, provider: str, intent: Intent
) -> TicketIntent:
    """The checkout's intent at this provider: this one, or the one a parallel request kept first."""
    await conn.execute(
        """INSERT INTO ticket_payment_intents
               (checkout_id, provider, intent_id, client_secret, payment_url, amount, currency, status)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (checkout_id, provider) DO NOTHING""",
        checkout_id,
        provider,
        intent.id,
        intent.client_secret,
        intent.payment_url,
        intent.amount,
        intent.currency,
        intent.status,
    )
    kept = await intent_of(conn, checkout_id, provider)
    assert kept is not None, "inserted or already there"
    return kept


async def checkout_of_intent(conn: asyncpg.Connection, provider: str, intent_id: str) -> uuid.UUID | None:
    return await conn.fetchval(
        "SELECT checkout_id FROM ticket_payment_intents WHERE provider = $1 AND intent_id = $2", provider, intent_id
    )


async def set_intent_status(conn: asyncpg.Connection, provider: str, intent_id: str, status: str) -> None:
    await conn.execute(
        "UPDATE ticket_payment_intents SET status = $3, updated_at = now() WHERE provider = $1 AND intent_id = $2",
        provider,
        intent_id,
        status,
    )


async def mark_paid_online(
    conn: asyncpg.Connection, checkout_id: uuid.UUID, *, provider: str, payment_ref: str
) -> None:
    """A reservation (locked by the caller) paid at a provider: paid, with the payment a refund names."""
    await conn.execute(
        """UPDATE ticket_checkouts SET status = 'paid', paid_at = now(), payment_method = $2, payment_ref = $3
           WHERE id = $1 AND status = 'reserved'""",
        checkout_id,
        provider,
        payment_ref,
    )


async def payment_ref_of(conn: asyncpg.Connection, checkout_id: uuid.UUID) -> str | None:
    return await conn.fetchval("SELECT payment_ref FROM ticket_checkouts WHERE id = $1", checkout_id)


async def insert_refund(
    conn: asyncpg.Connection,
    *,
    checkout_id: uuid.UUID,
    provider: str,
    payment_ref: str | None,
    amount: int,
    currency: str,
    reason: str,
) -> uuid.UUID | None:
    """A refund of a checkout's payment: through the provider (pending, for a job) when `payment_ref` names
    its payment, else handed back at the counter (done); None when that payment is being refunded already."""
    return await conn.fetchval(
        """INSERT INTO ticket_refunds (checkout_id, provider, payment_ref, amount, currency, reason, status)
           VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $3::text IS NULL THEN 'succeeded' ELSE 'pending' END)
           ON CONFLICT DO NOTHING RETURNING id""",
        checkout_id,
        provider,
        payment_ref,
        amount,
        currency,
        reason,
    )


async def refund_work(conn: asyncpg.Connection, refund_id: uuid.UUID) -> RefundWork | None:
    row = await conn.fetchrow(
        """SELECT id, provider, payment_ref, amount, status FROM ticket_refunds
           WHERE id = $1 AND payment_ref IS NOT NULL""",
        refund_id,
    )
    return RefundWork(**dict(row)) if row else None


async def settle_refund(
    conn: asyncpg.Connection,
    *,
    refund_id: uuid.UUID | None = None,
    provider_ref: str | None,
    status: str,
    error: str | None = None,
) -> bool:
    """Record what the provider says of a refund, found by our id (after asking for it) or by the provider's
    (a webhook); False when there is no such refund, or it says so already."""
    done = await conn.execute(
        """UPDATE ticket_refunds SET provider_ref = $2, status = $3, error = $4, updated_at = now()
           WHERE (id = $1 OR ($1::uuid IS NULL AND provider_ref = $2))
             AND (status, provider_ref, error) IS DISTINCT FROM ($3, $2, $4)""",
        refund_id,
        provider_ref,
        status,
        error,
    )
    return done != "UPDATE 0"
