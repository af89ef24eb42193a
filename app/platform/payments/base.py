"""What every payment provider gives the domains, in one vocabulary: an intent the customer pays, refunds,
and webhooks verified and read into news about an intent or a refund. Each provider's own words stay in its
gateway module; amounts are integer minor units and currencies upper-case ISO 4217 on both sides."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

Provider = Literal["stripe", "razorpay"]
PROVIDERS: tuple[Provider, ...] = ("stripe", "razorpay")


@dataclass(frozen=True, slots=True)
class Intent:
    """A payment the provider is waiting for. Stripe's is completed in the customer's app with
    `client_secret`; Razorpay's is a page at `payment_url` the customer opens."""

    id: str
    client_secret: str | None
    payment_url: str | None
    amount: int
    currency: str
    status: str


@dataclass(frozen=True, slots=True)
class Refund:
    id: str
    status: str  # ours: pending | succeeded | failed


@dataclass(frozen=True, slots=True)
class PaymentNews:
    """What an event says of an intent. `payment_ref` names the money taken, as a refund must name it
    (Stripe refunds a PaymentIntent, Razorpay a payment); `amount` is what came in when `succeeded`."""

    intent_id: str
    status: str | None
    succeeded: bool
    amount: int
    currency: str
    payment_ref: str


@dataclass(frozen=True, slots=True)
class RefundNews:
    refund_ref: str
    status: str  # ours: pending | succeeded | failed


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """A verified notification: its id (to process it once), its type, and what it says, if anything we
    act on (neither, for the many event types we take in and ignore)."""

    id: str
    type: str
    payment: PaymentNews | None = None
    refund: RefundNews | None = None


class BadSignature(Exception):
    """The webhook's signature is missing, wrong or too old, or the signed body is not the provider's event."""


class GatewayError(Exception):
    """The provider refused or could not be reached; `retryable` when trying again later may pass."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class PaymentGateway(Protocol):
    name: Provider
    signature_header: str  # lower case: the header its webhooks are signed in

    async def create_intent(
        self, *, amount: int, currency: str, idempotency_key: str, metadata: dict[str, str]
    ) -> Intent: ...

    async def refund(self, *, payment_ref: str, amount: int, idempotency_key: str) -> Refund: ...

    def verify(self, payload: bytes, headers: Mapping[str, str]) -> WebhookEvent: ...

    async def close(self) -> None: ...
