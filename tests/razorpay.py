"""A local Razorpay and Stripe, and a Gatehouse server that pays through both, for the order and the ticket
checkout tests.

The Razorpay stand-in answers what the gateway calls, as Razorpay's REST API does: JSON bodies, the key id
and secret as HTTP Basic auth, payment links kept unique by `reference_id` (a second one is refused, as
Razorpay refuses it) and found by it, refunds of a payment listed by it. It can fail as a provider in
trouble does: answer 503 before taking a request, or take it and lose the answer (a 502 after the work).
Webhooks are posted as Razorpay posts them: the raw body's HMAC-SHA256 in `X-Razorpay-Signature`, the
event's id in `X-Razorpay-Event-Id`. Stripe's stand-in is the one tests/commerce/test_stripe.py uses.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
import orjson
import pytest
import stripe
from aiohttp import web

from app.platform.config import Settings
from tests.commerce.test_stripe import SECRET_KEY, WEBHOOK_SECRET, LocalStripe
from tests.conftest import RunningServer
from tests.helpers import Api

KEY_ID = "rzp_test_" + secrets.token_hex(6)
KEY_SECRET = secrets.token_hex(12)
RAZORPAY_WEBHOOK_SECRET = secrets.token_hex(16)


def _error(status: int, description: str) -> web.Response:
    body = {"error": {"code": "BAD_REQUEST_ERROR", "description": description, "source": "NA", "reason": "NA"}}
    return web.json_response(body, status=status)


@dataclass
class LocalRazorpay:
    """Razorpay's payment link and refund endpoints: what was asked, and what exists."""

    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    links: dict[str, dict[str, Any]] = field(default_factory=dict)  # by id
    refunds: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by payment id
    outages: int = 0  # requests that create something to answer 503 before taking them
    lost_answers: int = 0  # such requests to take, then answer 502 as if the answer were lost on the way
    refund_status: str = "processed"

    def _authorised(self, request: web.Request) -> bool:
        expected = base64.b64encode(f"{KEY_ID}:{KEY_SECRET}".encode()).decode()
        return request.headers.get("Authorization") == f"Basic {expected}"

    def _trouble_before(self) -> web.Response | None:
        if self.outages > 0:
            self.outages -= 1
            return _error(503, "Razorpay is having a moment")
        return None

    def _answer(self, made: dict[str, Any]) -> web.Response:
        if self.lost_answers > 0:
            self.lost_answers -= 1
            return _error(502, "the answer was lost")
        return web.json_response(made)

    async def find_links(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _error(401, "The api key provided is invalid")
        ref = request.query.get("reference_id")
        self.requests.append({"kind": "find_links", "reference_id": ref})
        return web.json_response(
            {"payment_links": [link for link in self.links.values() if link["reference_id"] == ref]}
        )

    async def create_link(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _error(401, "The api key provided is invalid")
        body = await request.json()
        self.requests.append({"kind": "link", "body": body})
        if (trouble := self._trouble_before()) is not None:
            return trouble
        if any(link["reference_id"] == body.get("reference_id") for link in self.links.values()):
            return _error(400, "Payment Link with given reference_id already exists")
        link_id = "plink_" + secrets.token_hex(7)
        link = {
            "id": link_id,
            "amount": body["amount"],
            "amount_paid": 0,
            "currency": body["currency"],
            "accept_partial": body.get("accept_partial", False),
            "reference_id": body.get("reference_id"),
            "description": body.get("description"),
            "notes": body.get("notes", {}),
            "short_url": f"https://rzp.io/i/{secrets.token_urlsafe(6)}",
            "status": "created",
        }
        self.links[link_id] = link
        return self._answer(link)

    async def list_refunds(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _error(401, "The api key provided is invalid")
        made = self.refunds.get(request.match_info["id"], [])
        return web.json_response({"entity": "collection", "count": len(made), "items": made})

    async def refund(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _error(401, "The api key provided is invalid")
        payment_id, body = request.match_info["id"], await request.json()
        self.requests.append({"kind": "refund", "payment_id": payment_id, "body": body})
        if (trouble := self._trouble_before()) is not None:
            return trouble
        refund = {
            "id": "rfnd_" + secrets.token_hex(7),
            "entity": "refund",
            "amount": body["amount"],
            "currency": "INR",
            "payment_id": payment_id,
            "receipt": body.get("receipt"),
            "notes": body.get("notes", {}),
            "status": self.refund_status,
        }
        self.refunds.setdefault(payment_id, []).append(refund)
        return self._answer(refund)

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["kind"] == kind]

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/v1/payment_links", self.find_links)
        app.router.add_post("/v1/payment_links", self.create_link)
        app.router.add_get("/v1/payments/{id}/refunds", self.list_refunds)
        app.router.add_post("/v1/payments/{id}/refund", self.refund)


@dataclass
class Providers:
    razorpay: LocalRazorpay
    stripe: LocalStripe
    server: RunningServer
    api: Api


@pytest.fixture(scope="module")
async def online(settings: Settings) -> AsyncIterator[Providers]:
    """A server with Stripe and Razorpay configured (Stripe first: the default), each at its stand-in; it
    also runs the jobs, so refunds go out as they would."""
    razorpay, local_stripe = LocalRazorpay(), LocalStripe()
    web_app = web.Application()
    razorpay.routes(web_app)
    web_app.router.add_post("/v1/payment_intents", local_stripe.payment_intents)
    web_app.router.add_post("/v1/refunds", local_stripe.refunds)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    razorpay.url = local_stripe.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    server = RunningServer(
        replace(
            settings,
            stripe_secret_key=SECRET_KEY,
            stripe_webhook_secret=WEBHOOK_SECRET,
            stripe_api_base=razorpay.url,
            razorpay_key_id=KEY_ID,
            razorpay_key_secret=KEY_SECRET,
            razorpay_webhook_secret=RAZORPAY_WEBHOOK_SECRET,
            razorpay_api_base=razorpay.url,
            allow_insecure_dev=True,
            run_jobs=True,
        )
    )
    try:
        await server.start()
        async with httpx.AsyncClient(base_url=server.url, timeout=15) as client:
            yield Providers(razorpay, local_stripe, server, Api(client, server.url))
    finally:
        await server.stop()
        await runner.cleanup()


RAZORPAY_ROUTE = "/v1/payments/webhooks/razorpay"
STRIPE_ROUTE = "/v1/payments/stripe/webhook"


def razorpay_event(kind: str, **entities: dict[str, Any]) -> bytes:
    return orjson.dumps(
        {
            "entity": "event",
            "account_id": "acc_test",
            "event": kind,
            "contains": list(entities),
            "payload": {name: {"entity": entity} for name, entity in entities.items()},
            "created_at": int(time.time()),
        }
    )


def link_paid(intent: dict[str, Any], *, amount: int | None = None) -> tuple[bytes, str]:
    """`payment_link.paid` for an intent, and the id of the payment it took."""
    payment_id = "pay_" + secrets.token_hex(7)
    paid = intent["amount"] if amount is None else amount
    payload = razorpay_event(
        "payment_link.paid",
        payment_link={"id": intent["intent_id"], "status": "paid", "amount": intent["amount"], "amount_paid": paid},
        order={"id": "order_" + secrets.token_hex(7), "status": "paid", "amount_paid": paid},
        payment={
            "id": payment_id,
            "entity": "payment",
            "amount": paid,
            "currency": intent["currency"],
            "status": "captured",
        },
    )
    return payload, payment_id


def razorpay_headers(payload: bytes, *, secret: str = RAZORPAY_WEBHOOK_SECRET, event_id: str | None = None) -> dict:
    return {
        "Content-Type": "application/json",
        "X-Razorpay-Signature": hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest(),
        "X-Razorpay-Event-Id": event_id or "evt_" + secrets.token_hex(7),
    }


async def deliver(api: Api, payload: bytes, headers: dict[str, str], route: str = RAZORPAY_ROUTE) -> httpx.Response:
    return await api.client.post(route, content=payload, headers=headers)


def stripe_headers(payload: bytes) -> dict[str, str]:
    signed = stripe.WebhookSignature.generate_signature_header(payload.decode(), WEBHOOK_SECRET, int(time.time()))
    return {"Content-Type": "application/json", "Stripe-Signature": signed}
