"""Online card payments through a provider: a payment intent the customer's app completes, refunds, and
the provider's signed webhooks that say how a payment went.

Stripe is the provider, through its own library (`StripeGateway`), configured with STRIPE_SECRET_KEY and
STRIPE_WEBHOOK_SECRET; without them there is no gateway and online payment is off. Amounts are integer
minor units, as Stripe takes them. STRIPE_API_BASE (development and tests) points the library at another
address, the way FCM_ENDPOINT does for pushes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import orjson
import stripe


@dataclass(frozen=True, slots=True)
class Intent:
    """A payment the provider is waiting for; the customer's app completes it with `client_secret`."""

    id: str
    client_secret: str
    amount: int
    currency: str  # ISO 4217, upper case
    status: str


@dataclass(frozen=True, slots=True)
class Refund:
    id: str
    status: str  # pending | succeeded | failed | canceled (the provider's word)


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """A verified notification: its id (to process it once), its type, and the object it is about."""

    id: str
    type: str
    object: dict[str, Any]


class BadSignature(Exception):
    """The webhook's signature is missing, wrong or too old."""


class GatewayError(Exception):
    """The provider refused or could not be reached; `retryable` when trying again later may pass."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class PaymentGateway(Protocol):
    name: str

    async def create_intent(
        self, *, amount: int, currency: str, idempotency_key: str, metadata: dict[str, str]
    ) -> Intent: ...

    async def refund(self, *, intent_id: str, amount: int, idempotency_key: str) -> Refund: ...

    def verify(self, payload: bytes, signature: str | None) -> WebhookEvent: ...


class StripeGateway:
    name = "stripe"

    def __init__(self, secret_key: str, webhook_secret: str, *, api_base: str | None = None, tolerance: int = 300):
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base} if api_base else None,
            http_client=stripe.HTTPXClient(timeout=20),
            max_network_retries=2,  # the library retries with the same idempotency key
        )
        self._webhook_secret = webhook_secret
        self._tolerance = tolerance

    async def create_intent(
        self, *, amount: int, currency: str, idempotency_key: str, metadata: dict[str, str]
    ) -> Intent:
        try:
            intent = await self._client.v1.payment_intents.create_async(
                params={
                    "amount": amount,
                    "currency": currency.lower(),
                    "metadata": metadata,
                    "automatic_payment_methods": {"enabled": True},
                },
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            raise _gateway_error(exc) from exc
        return Intent(
            id=intent.id,
            client_secret=intent.client_secret or "",
            amount=intent.amount,
            currency=intent.currency.upper(),
            status=intent.status,
        )

    async def refund(self, *, intent_id: str, amount: int, idempotency_key: str) -> Refund:
        try:
            refund = await self._client.v1.refunds.create_async(
                params={"payment_intent": intent_id, "amount": amount},
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            raise _gateway_error(exc) from exc
        return Refund(id=refund.id, status=refund.status or "pending")

    def verify(self, payload: bytes, signature: str | None) -> WebhookEvent:
        """The event, once its `Stripe-Signature` is ours and at most `tolerance` seconds old."""
        try:
            stripe.WebhookSignature.verify_header(payload, signature, self._webhook_secret, self._tolerance)
        except stripe.SignatureVerificationError as exc:
            raise BadSignature(str(exc)) from None
        try:
            event = orjson.loads(payload)
            return WebhookEvent(id=str(event["id"]), type=str(event["type"]), object=dict(event["data"]["object"]))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            raise BadSignature("The signed payload is not a Stripe event.") from None


def _gateway_error(exc: stripe.StripeError) -> GatewayError:
    status = exc.http_status or 0
    retryable = isinstance(exc, stripe.APIConnectionError | stripe.RateLimitError) or status >= 500
    return GatewayError(f"{type(exc).__name__}: {exc.user_message or exc}"[:300], retryable=retryable)
