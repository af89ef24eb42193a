"""Online payments through providers (Stripe, Razorpay) behind one interface, and the registry of those this
deployment configured, by name. A provider is configured by its keys (STRIPE_*, RAZORPAY_*); without them it
is absent, and so is online payment through it. Its `*_API_BASE` (development and tests only) points it at
another address, the way FCM_ENDPOINT does for pushes.

Both the shops (orders) and the mall (ticket checkouts) take money through these, each keeping its own
ledger of intents and refunds; `ask_intent` is the one way either asks a provider to take money, and
`ask_refund` the one way either asks it to give money back.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import structlog

from app.platform.config import Settings
from app.platform.http import Unavailable
from app.platform.jobs import RetryLater
from app.platform.payments.base import (
    PROVIDERS,
    BadSignature,
    GatewayError,
    Intent,
    PaymentGateway,
    PaymentNews,
    Provider,
    Refund,
    RefundNews,
    WebhookEvent,
)
from app.platform.payments.razorpay_gateway import RazorpayGateway
from app.platform.payments.stripe_gateway import StripeGateway

__all__ = [
    "PROVIDERS",
    "BadSignature",
    "GatewayError",
    "Gateways",
    "Intent",
    "PaymentGateway",
    "PaymentNews",
    "Provider",
    "RazorpayGateway",
    "Refund",
    "RefundNews",
    "StripeGateway",
    "WebhookEvent",
    "ask_intent",
    "ask_refund",
    "signed_for",
]

# The header each provider signs its webhooks in, configured here or not: a webhook posted to the wrong
# provider's address is told so.
SIGNATURE_HEADERS: dict[Provider, str] = {
    "stripe": StripeGateway.signature_header,
    "razorpay": RazorpayGateway.signature_header,
}


class Gateways:
    """The configured providers by name; the first is the default when a customer names none."""

    def __init__(self, gateways: list[PaymentGateway]) -> None:
        self._by_name = {g.name: g for g in gateways}

    @classmethod
    def from_settings(cls, settings: Settings) -> Gateways:
        found: list[PaymentGateway] = []
        if settings.stripe_secret_key and settings.stripe_webhook_secret:
            found.append(
                StripeGateway(
                    settings.stripe_secret_key,
                    settings.stripe_webhook_secret,
                    api_base=settings.stripe_api_base,
                    tolerance=settings.stripe_webhook_tolerance,
                )
            )
        if settings.razorpay_key_id and settings.razorpay_key_secret and settings.razorpay_webhook_secret:
            found.append(
                RazorpayGateway(
                    settings.razorpay_key_id,
                    settings.razorpay_key_secret,
                    settings.razorpay_webhook_secret,
                    api_base=settings.razorpay_api_base,
                )
            )
        return cls(found)

    def get(self, name: str | None) -> PaymentGateway | None:
        """The named provider, or the default for None; None when that one is not configured."""
        if name is None:
            return next(iter(self._by_name.values()), None)
        return self._by_name.get(name)

    def names(self) -> list[str]:
        return list(self._by_name)

    def __iter__(self) -> Iterator[PaymentGateway]:
        return iter(self._by_name.values())

    async def close(self) -> None:
        for gateway in self._by_name.values():
            await gateway.close()


def signed_for(headers: Mapping[str, str]) -> Provider | None:
    """The provider whose signature header a webhook carries, if any (the first, should it carry two)."""
    return next((name for name, header in SIGNATURE_HEADERS.items() if headers.get(header)), None)


log = structlog.get_logger(__name__)


async def ask_intent(
    gateway: PaymentGateway, *, amount: int, currency: str, idempotency_key: str, metadata: dict[str, str]
) -> Intent:
    """Ask a provider for a payment it then waits for, while someone waits for the answer: 503 when it
    cannot be reached or refuses (logged with what it said). Call it outside any transaction, so no lock
    is held while the provider answers."""
    try:
        return await gateway.create_intent(
            amount=amount, currency=currency, idempotency_key=idempotency_key, metadata=metadata
        )
    except GatewayError as exc:
        log.warning("payment_intent_failed", provider=gateway.name, error=str(exc), **metadata)
        raise Unavailable("The payment provider could not be reached; try again.") from exc


async def ask_refund(
    gateways: Gateways, *, provider: str, payment_ref: str, amount: int, idempotency_key: str
) -> tuple[str | None, str, str | None]:
    """Ask a provider to give a payment back, as a job does: `(refund_ref, status, error)`, where a refusal
    is `failed` with its reason. Raises RetryLater while the provider is unreachable or not configured on
    this worker; the same key on every attempt makes the provider refund once."""
    gateway = gateways.get(provider)
    if gateway is None:
        raise RetryLater(f"{provider} is not configured on this worker")
    try:
        answer = await gateway.refund(payment_ref=payment_ref, amount=amount, idempotency_key=idempotency_key)
    except GatewayError as exc:
        if exc.retryable:
            raise RetryLater(str(exc)) from exc
        return None, "failed", str(exc)
    return answer.id, answer.status, None
