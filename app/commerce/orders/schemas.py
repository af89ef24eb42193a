"""Request models for orders and their payments. Prices are never taken from a client: a line names a
product, its options and how many, and a price sent along is refused (422)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.identity.addresses.schemas import Country, Line, Place, PostalCode
from app.identity.schemas import Name, Phone
from app.platform.http import JSON_INTEGER, Body, Day
from app.platform.pagination import PageQuery
from app.platform.payments import Provider

Status = Literal["pending", "paid", "preparing", "ready", "completed", "cancelled", "shipped", "delivered", "returned"]
Fulfilment = Literal["pickup", "dine_in", "delivery"]
TrackingText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


class OrderLineIn(Body):
    model_config = ConfigDict(extra="forbid")

    product_id: uuid.UUID
    option_ids: Annotated[list[uuid.UUID], Field(max_length=50)] = []
    quantity: Annotated[int, Field(ge=1, le=99), JSON_INTEGER] = 1


class ShippingAddressIn(Body):
    """Where a delivery goes, as the order keeps it."""

    name: Name
    line1: Line
    line2: Line | None = None
    city: Place
    region: Place | None = None
    postal_code: PostalCode
    country: Country
    phone: Phone | None = None


class OrderIn(Body):
    """An order at a shop: of the caller's cart there, or (the shop's staff, at the counter) of `items`,
    for a walk-in customer, for an account (`customer_id`) or for one of the shop's customer records
    (`shop_customer_id`)."""

    model_config = ConfigDict(extra="forbid")

    shop_id: uuid.UUID
    items: Annotated[list[OrderLineIn], Field(min_length=1, max_length=100)] | None = None
    customer_id: uuid.UUID | None = None
    shop_customer_id: uuid.UUID | None = Field(default=None, description="Counter: a customer the shop keeps")
    redeem_points: Annotated[int, Field(ge=0, le=10**12), JSON_INTEGER] = Field(
        default=0, description="Loyalty points to pay with (the customer's, at this shop); one is a minor unit"
    )
    note: Note | None = None
    fulfilment: Fulfilment = Field(default="pickup", description="How the order reaches its customer")
    address_id: uuid.UUID | None = Field(
        default=None, description="Delivery: one of the customer's saved addresses (their default when left out)"
    )
    address: ShippingAddressIn | None = Field(default=None, description="Delivery: an address given here instead")


class StatusIn(Body):
    """A move; `shipped` (a delivery order that is paid) names the carrier and its tracking number."""

    to: Status
    note: Note | None = None
    carrier: TrackingText | None = None
    tracking_number: TrackingText | None = None


class PaymentIn(Body):
    """A payment taken at the counter; it must be the order's total."""

    method: Literal["cash", "card", "wallet"] = Field(description="`wallet`: UPI or a phone's wallet app")
    amount: Annotated[int, Field(ge=1, le=10**13), JSON_INTEGER]


class OnlinePaymentIn(Body):
    """The provider to pay through; left out, the first this server has configured (Stripe before Razorpay)."""

    provider: Provider | None = None


class StripeEvent(BaseModel):
    """What Stripe posts (the body is read as signed, not through this model): an event with its id, its
    type and the object it is about. Signed with the `Stripe-Signature` header."""

    id: str
    type: str
    data: dict[str, Any]


class RazorpayEvent(BaseModel):
    """What Razorpay posts (the body is read as signed, not through this model): an event's name and the
    entities it is about. Signed with `X-Razorpay-Signature` and named by `X-Razorpay-Event-Id`."""

    event: str
    payload: dict[str, Any]


class OrdersQuery(PageQuery):
    """Your orders; or, for a shop's staff with `shop_id`, the shop's. Newest first."""

    shop_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = Field(default=None, description="Staff: one customer's orders at the shop")
    shop_customer_id: uuid.UUID | None = Field(
        default=None, description="Staff: a customer record's orders at the shop (and its account's, once linked)"
    )
    status: Status | None = None
    from_: Day | None = Field(default=None, alias="from", description="First day (UTC)")
    to: Day | None = Field(default=None, description="Last day (UTC)")
