"""Paying online through Stripe, for real, against a local Stripe.

A second Gatehouse server runs with STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET and STRIPE_API_BASE pointing
the `stripe` library at a local aiohttp server that answers `POST /v1/payment_intents` and
`POST /v1/refunds` as Stripe does: form-encoded requests, the secret key as the Bearer, answers replayed
for a repeated Idempotency-Key. Nothing in the library is replaced. Webhooks are posted as Stripe posts
them, signed with the webhook secret by the library's own signing helper, so the server's check is the
one production runs. This server also runs the jobs, so refunds go out as they would.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
import orjson
import pytest
import stripe
from aiohttp import web
from jsonschema import Draft202012Validator

from app.platform.config import ConfigError, Settings, load_settings
from app.platform.db import Database
from tests.commerce.conftest import Shop, product_body
from tests.conftest import RunningServer
from tests.helpers import Api, User, connect, settle

SECRET_KEY = "sk_test_" + secrets.token_hex(12)
WEBHOOK_SECRET = "whsec_" + secrets.token_hex(16)


@dataclass
class LocalStripe:
    """Stripe's PaymentIntent and Refund endpoints: what was asked, and answers kept per Idempotency-Key."""

    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    refund_outages: int = 0  # refund requests to answer 503 before taking them
    refund_status: str = "succeeded"

    async def _take(self, request: web.Request, kind: str) -> tuple[dict[str, str], str] | web.Response:
        if request.headers.get("Authorization") != f"Bearer {SECRET_KEY}":
            return web.json_response({"error": {"type": "invalid_request_error", "message": "bad key"}}, status=401)
        form = {k: str(v) for k, v in (await request.post()).items()}
        key = request.headers.get("Idempotency-Key", "")
        self.requests.append({"kind": kind, "form": form, "idempotency_key": key})
        return form, key

    async def payment_intents(self, request: web.Request) -> web.Response:
        taken = await self._take(request, "payment_intent")
        if isinstance(taken, web.Response):
            return taken
        form, key = taken
        if key not in self.answers:
            intent_id = "pi_" + secrets.token_hex(8)
            self.answers[key] = {
                "id": intent_id,
                "object": "payment_intent",
                "amount": int(form["amount"]),
                "currency": form["currency"],
                "status": "requires_payment_method",
                "client_secret": f"{intent_id}_secret_{secrets.token_hex(8)}",
                "metadata": {k[9:-1]: v for k, v in form.items() if k.startswith("metadata[")},
            }
        return web.json_response(self.answers[key])

    async def refunds(self, request: web.Request) -> web.Response:
        taken = await self._take(request, "refund")
        if isinstance(taken, web.Response):
            return taken
        form, key = taken
        if self.refund_outages > 0:
            self.refund_outages -= 1
            # Stripe-Should-Retry: false, so the library gives up at once and the job's own retry is what runs.
            return web.json_response(
                {"error": {"type": "api_error", "message": "Stripe is having a moment"}},
                status=503,
                headers={"Stripe-Should-Retry": "false"},
            )
        if key not in self.answers:
            self.answers[key] = {
                "id": "re_" + secrets.token_hex(8),
                "object": "refund",
                "amount": int(form["amount"]),
                "payment_intent": form["payment_intent"],
                "status": self.refund_status,
            }
        return web.json_response(self.answers[key])

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["kind"] == kind]


@dataclass
class Online:
    stripe: LocalStripe
    server: RunningServer
    api: Api


@pytest.fixture(scope="module")
async def online(settings: Settings) -> AsyncIterator[Online]:
    local = LocalStripe()
    web_app = web.Application()
    web_app.router.add_post("/v1/payment_intents", local.payment_intents)
    web_app.router.add_post("/v1/refunds", local.refunds)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    local.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    server = RunningServer(
        replace(
            settings,
            stripe_secret_key=SECRET_KEY,
            stripe_webhook_secret=WEBHOOK_SECRET,
            stripe_api_base=local.url,
            allow_insecure_dev=True,
            run_jobs=True,
        )
    )
    try:
        await server.start()
        async with httpx.AsyncClient(base_url=server.url, timeout=15) as client:
            yield Online(local, server, Api(client, server.url))
    finally:
        await server.stop()
        await runner.cleanup()


def _event(kind: str, thing: dict[str, Any]) -> bytes:
    return orjson.dumps(
        {"id": "evt_" + secrets.token_hex(8), "object": "event", "type": kind, "data": {"object": thing}}
    )


async def _deliver(api: Api, payload: bytes, *, secret: str = WEBHOOK_SECRET, at: int | None = None) -> httpx.Response:
    """Post an event as Stripe does, signed with `secret` at time `at`."""
    signature = stripe.WebhookSignature.generate_signature_header(payload.decode(), secret, at or int(time.time()))
    return await api.client.post(
        "/v1/payments/stripe/webhook",
        content=payload,
        headers={"Content-Type": "application/json; charset=utf-8", "Stripe-Signature": signature},
    )


def _succeeded(intent: dict[str, Any], amount: int | None = None) -> bytes:
    return _event(
        "payment_intent.succeeded",
        {
            "id": intent["intent_id"],
            "object": "payment_intent",
            "amount": intent["amount"],
            "amount_received": intent["amount"] if amount is None else amount,
            "currency": intent["currency"].lower(),
            "status": "succeeded",
        },
    )


async def _ordered(api: Api, shop: Shop, customer: User, price: int = 25000, stock: int = 3) -> dict[str, Any]:
    product = await api.created(
        "/v1/products", product_body(shop.id, f"Watch {uuid.uuid4().hex[:6]}", price, stock=stock), shop.manager
    )
    answer = await api.post(
        "/v1/orders",
        {"shop_id": shop.id, "items": [{"product_id": product["id"]}], "customer_id": customer.id},
        shop.employee,
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


async def _intent(api: Api, order: dict[str, Any], user: User) -> httpx.Response:
    return await api.post(f"/v1/orders/{order['id']}/payment-intent", None, user)


async def _refunds(db: Database, order_id: str) -> list[dict[str, Any]]:
    async with db.connection() as conn:
        rows = await conn.fetch("SELECT reason, status, amount FROM refunds WHERE order_id = $1", uuid.UUID(order_id))
    return [dict(r) for r in rows]


async def test_an_order_paid_online_once_however_often_stripe_says_so(online: Online, shop: Shop, db: Database) -> None:
    api = online.api
    order = await _ordered(api, shop, shop.customer)
    first = await _intent(api, order, shop.customer)
    assert first.status_code == 200, first.text
    intent = first.json()
    assert (intent["amount"], intent["currency"], intent["provider"], intent["status"]) == (
        order["total"],
        "INR",
        "stripe",
        "requires_payment_method",
    )
    assert intent["client_secret"].startswith(intent["intent_id"] + "_secret_")
    again = await _intent(api, order, shop.customer)
    assert again.json() == intent, "asking again gives the same intent"
    (asked,) = [r for r in online.stripe.of("payment_intent") if r["form"]["metadata[order_id]"] == order["id"]]
    assert asked["form"]["amount"] == str(order["total"]) and asked["form"]["currency"] == "inr"
    assert asked["idempotency_key"] == f"gatehouse-order-{order['id']}"

    phone = await connect(online.server.url, shop.customer.access_token)
    try:
        event = _succeeded(intent)
        taken = await _deliver(api, event)
        assert taken.status_code == 200 and taken.json() == {"received": True, "duplicate": False}, taken.text
        (paid,) = await phone.wait_for("payment_received")
        assert paid["data"]["id"] == order["id"] and paid["data"]["status"] == "paid"
        again = await _deliver(api, event)
        assert again.status_code == 200 and again.json() == {"received": True, "duplicate": True}
        another = await _deliver(api, _succeeded(intent))  # a second event about the same payment
        assert another.status_code == 200 and another.json() == {"received": True, "duplicate": False}
        await settle()
        assert len(phone.of("payment_received")) == 1, "a redelivered event is not a second payment"
    finally:
        await phone.close()
    seen = (await api.get(f"/v1/orders/{order['id']}", shop.customer)).json()
    assert seen["status"] == "paid" and seen["points_earned"] == 263  # 1 % of 26250, rounded half up
    async with db.connection() as conn:
        payments = await conn.fetch(
            "SELECT method, amount, provider_ref, recorded_by FROM payments WHERE order_id = $1", uuid.UUID(order["id"])
        )
        earned = await conn.fetchval(
            "SELECT count(*) FROM loyalty_moves WHERE order_id = $1 AND kind = 'earn'", uuid.UUID(order["id"])
        )
    assert [dict(p) for p in payments] == [
        {"method": "stripe", "amount": order["total"], "provider_ref": intent["intent_id"], "recorded_by": None}
    ]
    assert earned == 1
    assert await _refunds(db, order["id"]) == [], "the intent that paid the order is never refunded for it"
    late = await _intent(api, order, shop.customer)
    assert late.status_code == 409 and late.json()["error"]["code"] == "not_payable"


async def test_an_unsigned_forged_or_stale_webhook_changes_nothing(online: Online, shop: Shop) -> None:
    api = online.api
    order = await _ordered(api, shop, shop.customer)
    intent = (await _intent(api, order, shop.customer)).json()
    event = _succeeded(intent)
    unsigned = await api.client.post(
        "/v1/payments/stripe/webhook", content=event, headers={"Content-Type": "application/json"}
    )
    forged = await _deliver(api, event, secret="whsec_" + secrets.token_hex(16))
    stale = await _deliver(api, event, at=int(time.time()) - 301)  # the default tolerance is 300 s
    signed = stripe.WebhookSignature.generate_signature_header(event.decode(), WEBHOOK_SECRET, int(time.time()))
    tampered = await api.client.post(
        "/v1/payments/stripe/webhook",
        content=event.replace(b'"succeeded"', b'"succeeded" '),
        headers={"Content-Type": "application/json", "Stripe-Signature": signed},
    )
    garbled = await api.client.post(
        "/v1/payments/stripe/webhook",
        content=b"not json at all",
        headers={
            "Content-Type": "application/json",
            "Stripe-Signature": stripe.WebhookSignature.generate_signature_header("not json at all", WEBHOOK_SECRET),
        },
    )
    for answer in (unsigned, forged, stale, tampered, garbled):
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"]["code"] == "bad_signature"
    assert (await api.get(f"/v1/orders/{order['id']}", shop.customer)).json()["status"] == "pending"
    # The same event, properly signed, is still new: none of the above was noted as seen.
    assert (await _deliver(api, event)).json() == {"received": True, "duplicate": False}
    assert (await api.get(f"/v1/orders/{order['id']}", shop.customer)).json()["status"] == "paid"


async def test_a_paid_online_order_cancelled_is_refunded_by_a_job_that_outlasts_an_outage(
    online: Online, shop: Shop, db: Database
) -> None:
    api = online.api
    order = await _ordered(api, shop, shop.customer)
    intent = (await _intent(api, order, shop.customer)).json()
    assert (await _deliver(api, _succeeded(intent))).status_code == 200
    online.stripe.refund_outages, online.stripe.refund_status = 1, "pending"
    phone = await connect(online.server.url, shop.customer.access_token)
    counter = await connect(online.server.url, shop.manager.access_token)
    try:
        assert (await counter.join("shop", shop.id))["ok"] is True
        cancelled = await api.post(f"/v1/orders/{order['id']}/status", {"to": "cancelled"}, shop.manager)
        assert cancelled.status_code == 200, cancelled.text
        # The first request meets the outage; the job tries again after its backoff (5 s) and Stripe takes it.
        (asked,) = await phone.wait_for("refund_updated", timeout=15)
        assert (asked["data"]["order_id"], asked["data"]["status"], asked["data"]["amount"]) == (
            order["id"],
            "pending",
            order["total"],
        )
        attempts = [r for r in online.stripe.of("refund") if r["form"]["payment_intent"] == intent["intent_id"]]
        assert len(attempts) == 2 and len({a["idempotency_key"] for a in attempts}) == 1
        assert attempts[0]["form"]["amount"] == str(order["total"])
        refund_id = online.stripe.answers[attempts[0]["idempotency_key"]]["id"]
        done = await _deliver(
            api, _event("refund.updated", {"id": refund_id, "object": "refund", "status": "succeeded"})
        )
        assert done.status_code == 200, done.text
        (_, went) = await phone.wait_for("refund_updated", count=2)
        assert went["data"]["status"] == "succeeded"
        (_, shop_saw) = await counter.wait_for("refund_updated", count=2)
        assert shop_saw["data"]["id"] == went["data"]["id"]
        document = (await api.client.get("/asyncapi.json")).json()
        schema = {"$ref": "#/components/schemas/refund_updated_event", "components": document["components"]}
        checker = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        assert [e.message for e in checker.iter_errors(went)] == [], "the event keeps to the AsyncAPI document"
    finally:
        await phone.close()
        await counter.close()
        online.stripe.refund_outages, online.stripe.refund_status = 0, "succeeded"
    assert await _refunds(db, order["id"]) == [{"reason": "cancelled", "status": "succeeded", "amount": order["total"]}]
    # Cancelled, the order also gave back its stock and the points it earned.
    assert (await api.get("/v1/loyalty", shop.customer, params={"shop_id": shop.id})).json()["balance"] == 0


async def test_money_that_comes_in_for_a_cancelled_order_goes_back(online: Online, shop: Shop, db: Database) -> None:
    api = online.api
    order = await _ordered(api, shop, shop.other_customer)
    intent = (await _intent(api, order, shop.other_customer)).json()
    cancelled = await api.post(f"/v1/orders/{order['id']}/status", {"to": "cancelled"}, shop.other_customer)
    assert cancelled.status_code == 200, cancelled.text
    phone = await connect(online.server.url, shop.other_customer.access_token)
    try:
        assert (await _deliver(api, _succeeded(intent))).status_code == 200
        (back,) = await phone.wait_for("refund_updated", timeout=10)
        assert back["data"]["status"] == "succeeded" and back["data"]["reason"] == "not_payable"
    finally:
        await phone.close()
    seen = (await api.get(f"/v1/orders/{order['id']}", shop.other_customer)).json()
    assert seen["status"] == "cancelled" and seen["points_earned"] == 0
    assert await _refunds(db, order["id"]) == [
        {"reason": "not_payable", "status": "succeeded", "amount": order["total"]}
    ]
    async with db.connection() as conn:
        assert await conn.fetchval("SELECT count(*) FROM payments WHERE order_id = $1", uuid.UUID(order["id"])) == 0


async def test_who_may_pay_online_and_where(online: Online, shop: Shop, admin: User, api: Api) -> None:
    order = await _ordered(online.api, shop, shop.customer)
    assert (await _intent(online.api, order, shop.other_customer)).status_code == 404
    staff = await _intent(online.api, order, shop.employee)
    assert staff.status_code == 403, staff.text
    # A shop whose flag is off takes no online payment.
    off = await online.api.client.patch(
        "/v1/config", json={"shop_id": shop.id, "online_payments_enabled": False}, headers=admin.headers
    )
    assert off.status_code == 200 and off.json()["online_payments_enabled"] is False, off.text
    refused = await _intent(online.api, order, shop.customer)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "online_payments_off"
    await online.api.client.patch(
        "/v1/config", json={"shop_id": shop.id, "online_payments_enabled": None}, headers=admin.headers
    )
    assert (await _intent(online.api, order, shop.customer)).status_code == 200
    # A server without Stripe configured takes no online payment, and no webhook.
    other = await _ordered(api, shop, shop.customer)
    unconfigured = await _intent(api, other, shop.customer)
    assert unconfigured.status_code == 409 and unconfigured.json()["error"]["code"] == "online_payments_off"
    nowhere = await _deliver(api, _event("payment_intent.succeeded", {"id": "pi_x"}))
    assert nowhere.status_code == 404 and nowhere.json()["error"]["code"] == "payments_not_configured"


def test_stripe_needs_both_secrets_and_another_address_only_in_development() -> None:
    env = {
        "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/postgres",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "JWT_SECRET": "s" * 40,
        "STRIPE_SECRET_KEY": SECRET_KEY,
    }
    with pytest.raises(ConfigError, match="STRIPE_WEBHOOK_SECRET"):
        load_settings(env)
    both = load_settings({**env, "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET})
    assert SECRET_KEY not in repr(both) and WEBHOOK_SECRET not in repr(both)
    local = {**env, "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET, "STRIPE_API_BASE": "http://127.0.0.1:9"}
    with pytest.raises(ConfigError, match="STRIPE_API_BASE"):
        load_settings(local)
    assert load_settings({**local, "ALLOW_INSECURE_DEV": "true"}).stripe_api_base == "http://127.0.0.1:9"
