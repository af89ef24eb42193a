"""HTTP handlers for orders and their payments."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.commerce.orders import checkout, repo, service
from app.commerce.orders.schemas import (
    OnlinePaymentIn,
    OrderIn,
    OrdersQuery,
    PaymentIn,
    RazorpayEvent,
    StatusIn,
    StripeEvent,
)
from app.commerce.payments.repo import Payment, PaymentIntent
from app.identity.current import principal
from app.platform import idempotency
from app.platform.http import UnsupportedMediaType, is_json, json, parse_body, parse_query, path_uuid
from app.platform.openapi import doc
from app.platform.state import app_state


@doc(
    retryable=True,
    summary="Order your cart at a shop, or (its staff) ring up `items` at the counter",
    body=OrderIn,
    response=repo.Order,
    status=201,
    tag="orders",
    errors=(404, 409),
    links={"get_order": "path.id", "move_order": "path.id", "pay_order": "path.id", "start_payment": "path.id"},
)
async def place_order(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, OrderIn)
    status, body = await service.place(
        app_state(request), actor=caller, data=data, attempt=await idempotency.attempt(request)
    )
    return json(body, status)


@doc(summary="Your orders, or a shop's for its staff; newest first", query=OrdersQuery, tag="orders", errors=(404,))
async def list_orders(request: Request) -> Response:
    caller = await principal(request)
    q = parse_query(request, OrdersQuery)
    return json(await service.list_orders(app_state(request), actor=caller, q=q))


@doc(summary="One order, with the prices it was made with", response=repo.Order, tag="orders")
async def get_order(request: Request) -> Response:
    caller = await principal(request)
    return json(await service.get_order(app_state(request), actor=caller, order_id=path_uuid(request)))


@doc(
    retryable=True,
    summary="Move an order: staff through the kitchen, a customer to cancelled while it is pending",
    body=StatusIn,
    response=repo.Order,
    tag="orders",
    errors=(409,),
)
async def move_order(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, StatusIn)
    status, body = await service.move(
        app_state(request),
        actor=caller,
        order_id=path_uuid(request),
        data=data,
        attempt=await idempotency.attempt(request),
    )
    return json(body, status)


@doc(
    retryable=True,
    summary="Record a cash or card payment of the order's total (the shop's staff)",
    body=PaymentIn,
    response=Payment,
    status=201,
    tag="orders",
    errors=(409,),
)
async def pay_order(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, PaymentIn)
    status, body = await checkout.pay(
        app_state(request),
        actor=caller,
        order_id=path_uuid(request),
        data=data,
        attempt=await idempotency.attempt(request),
    )
    return json(body, status)


@doc(
    summary="Pay your pending order online: its intent at the provider you choose, made once and then the same",
    body=OnlinePaymentIn,
    body_optional=True,
    response=PaymentIntent,
    tag="orders",
    errors=(404, 409, 503),
    reasons={
        409: "Not pending, or the shop (or this server) takes no online payments through that provider",
        503: "The payment provider could not be reached",
    },
)
async def start_payment(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, OnlinePaymentIn) if await request.body() else OnlinePaymentIn()
    return json(
        await checkout.start_online(
            app_state(request), actor=caller, order_id=path_uuid(request), provider=data.provider
        )
    )


async def _webhook(request: Request, provider: str) -> Response:
    if not is_json(request.headers.get("content-type")):
        raise UnsupportedMediaType()
    return json(
        await checkout.webhook(
            app_state(request), provider=provider, payload=await request.body(), headers=request.headers
        )
    )


@doc(
    summary="Stripe's webhook: a signed event about a payment or a refund, taken in once",
    body=StripeEvent,
    auth=False,
    tag="orders",
    errors=(400, 404),
    reasons={
        400: "A missing, wrong or stale Stripe-Signature, or another provider's webhook",
        404: "Stripe is not configured here",
    },
)
async def stripe_webhook(request: Request) -> Response:
    return await _webhook(request, "stripe")


@doc(
    summary="Razorpay's webhook: a signed event about a payment link or a refund, taken in once",
    body=RazorpayEvent,
    auth=False,
    tag="orders",
    errors=(400, 404),
    reasons={
        400: "A missing or wrong X-Razorpay-Signature, no X-Razorpay-Event-Id, or another provider's webhook",
        404: "Razorpay is not configured here",
    },
)
async def razorpay_webhook(request: Request) -> Response:
    return await _webhook(request, "razorpay")


routes = [
    Route("/v1/orders", place_order, methods=["POST"]),
    Route("/v1/orders", list_orders, methods=["GET"]),
    Route("/v1/orders/{id}", get_order, methods=["GET"]),
    Route("/v1/orders/{id}/status", move_order, methods=["POST"]),
    Route("/v1/orders/{id}/payments", pay_order, methods=["POST"]),
    Route("/v1/orders/{id}/payment-intent", start_payment, methods=["POST"]),
    Route("/v1/payments/stripe/webhook", stripe_webhook, methods=["POST"]),
    Route("/v1/payments/webhooks/razorpay", razorpay_webhook, methods=["POST"]),
]
