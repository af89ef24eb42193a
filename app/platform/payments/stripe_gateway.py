"""Stripe, through its own library: a PaymentIntent the customer's app completes with its `client_secret`,
refunds of an intent, and webhooks signed in `Stripe-Signature` with a timestamp at most `tolerance` seconds
old. The library retries with the same Idempotency-Key, so Stripe makes one intent or refund per key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
import stripe

from app.platform.payments.base import BadSignature, GatewayError, Intent, PaymentNews, Refund, RefundNews, WebhookEvent

# Stripe's words for a refund, in ours.
_REFUND_STATUS = {"succeeded": "succeeded", "failed": "failed", "canceled": "failed"}


class StripeGateway:
    name = "stripe"
    signature_header = "stripe-signature"

    def __init__(self, secret_key: str, webhook_secret: str, *, api_base: str | None = None, tolerance: int = 300):
        self._http = stripe.HTTPXClient(timeout=20)
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base} if api_base else None,
            http_client=self._http,
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
            payment_url=None,
            amount=intent.amount,
            currency=intent.currency.upper(),
            status=intent.status,
        )

    async def refund(self, *, payment_ref: str, amount: int, idempotency_key: str) -> Refund:
        try:
            refund = await self._client.v1.refunds.create_async(
                params={"payment_intent": payment_ref, "amount": amount},
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            raise _gateway_error(exc) from exc
        return Refund(id=refund.id, status=_REFUND_STATUS.get(refund.status or "", "pending"))

    def verify(self, payload: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        """The event, once its `Stripe-Signature` is ours and at most `tolerance` seconds old."""
        try:
            stripe.WebhookSignature.verify_header(
                payload, headers.get(self.signature_header), self._webhook_secret, self._tolerance
            )
        except stripe.SignatureVerificationError as exc:
            raise BadSignature(str(exc)) from None
        try:
            event = orjson.loads(payload)
            kind, thing = str(event["type"]), dict(event["data"]["object"])
            return WebhookEvent(
                id=str(event["id"]), type=kind, payment=_payment(kind, thing), refund=_refund(kind, thing)
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            raise BadSignature("The signed payload is not a Stripe event.") from None

    async def close(self) -> None:
        await self._http.close_async()


def _payment(kind: str, thing: dict[str, Any]) -> PaymentNews | None:
    """A `payment_intent.*` event's news; the money it took is the intent itself, as Stripe refunds it."""
    if not kind.startswith("payment_intent.") or not isinstance(intent_id := thing.get("id"), str):
        return None
    received = thing.get("amount_received")
    status = thing.get("status")
    return PaymentNews(
        intent_id=intent_id,
        status=status if isinstance(status, str) else None,
        succeeded=kind == "payment_intent.succeeded",
        amount=received if isinstance(received, int) else 0,
        currency=str(thing.get("currency", "")).upper(),
        payment_ref=intent_id,
    )


def _refund(kind: str, thing: dict[str, Any]) -> RefundNews | None:
    if not (kind.startswith("refund.") or kind == "charge.refund.updated"):
        return None
    if isinstance(ref := thing.get("id"), str) and isinstance(status := thing.get("status"), str):
        return RefundNews(refund_ref=ref, status=_REFUND_STATUS.get(status, "pending"))
    return None


def _gateway_error(exc: stripe.StripeError) -> GatewayError:
    status = exc.http_status or 0
    retryable = isinstance(exc, stripe.APIConnectionError | stripe.RateLimitError) or status >= 500
    return GatewayError(f"{type(exc).__name__}: {exc.user_message or exc}"[:300], retryable=retryable)
