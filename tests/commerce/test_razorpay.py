"""Paying orders through Razorpay, beside Stripe, against local stand-ins (tests/razorpay.py): the customer
chooses the provider, gets Razorpay's page to pay on, and Razorpay's signed webhook marks the order paid
once; a webhook signed wrongly, or by the other provider, changes nothing; a cancelled order's money goes
back through Razorpay by a job that neither loses nor doubles a refund when an answer goes missing."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

import httpx
import pytest

from app.platform.config import ConfigError, load_settings
from app.platform.db import Database
from app.platform.payments.razorpay_gateway import reference
from tests.commerce.conftest import Shop, product_body
from tests.commerce.test_stripe import _succeeded
from tests.helpers import Api, User, connect, settle
from tests.razorpay import (
    KEY_SECRET,
    RAZORPAY_ROUTE,
    RAZORPAY_WEBHOOK_SECRET,
    STRIPE_ROUTE,
    Providers,
    deliver,
    link_paid,
    online,
    razorpay_event,
    razorpay_headers,
    stripe_headers,
)

__all__ = ["online"]  # the fixture, used by name


async def _ordered(api: Api, shop: Shop, customer: User, price: int = 25000) -> dict[str, Any]:
    product = await api.created(
        "/v1/products", product_body(shop.id, f"Watch {uuid.uuid4().hex[:6]}", price, stock=3), shop.manager
    )
    answer = await api.post(
        "/v1/orders",
        {"shop_id": shop.id, "items": [{"product_id": product["id"]}], "customer_id": customer.id},
        shop.employee,
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


async def _intent(api: Api, order: dict[str, Any], user: User, provider: str | None = "razorpay") -> httpx.Response:
    body = None if provider is None else {"provider": provider}
    return await api.post(f"/v1/orders/{order['id']}/payment-intent", body, user)


async def _status(api: Api, order: dict[str, Any], user: User) -> str:
    return (await api.get(f"/v1/orders/{order['id']}", user)).json()["status"]


async def test_an_order_paid_on_razorpays_page_once_however_often_it_says_so(
    online: Providers, shop: Shop, db: Database
) -> None:
    api = online.api
    order = await _ordered(api, shop, shop.customer)
    first = await _intent(api, order, shop.customer)
    assert first.status_code == 200, first.text
    intent = first.json()
    assert (intent["provider"], intent["amount"], intent["currency"], intent["status"]) == (
        "razorpay",
        order["total"],
        "INR",
        "created",
    )
    assert intent["client_secret"] is None and intent["payment_url"].startswith("https://rzp.io/i/")
    assert (await _intent(api, order, shop.customer)).json() == intent, "asking again gives the same link"
    (asked,) = [r for r in online.razorpay.of("link") if r["body"]["notes"]["order_id"] == order["id"]]
    assert asked["body"]["amount"] == order["total"] and asked["body"]["currency"] == "INR"
    assert asked["body"]["reference_id"] == reference(f"gatehouse-order-{order['id']}")
    assert len(asked["body"]["reference_id"]) <= 40 and asked["body"]["accept_partial"] is False

    phone = await connect(online.server.url, shop.customer.access_token)
    try:
        payload, payment_id = link_paid(intent)
        headers = razorpay_headers(payload)
        taken = await deliver(api, payload, headers)
        assert taken.status_code == 200 and taken.json() == {"received": True, "duplicate": False}, taken.text
        (paid,) = await phone.wait_for("payment_received")
        assert paid["data"]["id"] == order["id"] and paid["data"]["status"] == "paid"
        again = await deliver(api, payload, headers)  # Razorpay redelivers with the same event id
        assert again.status_code == 200 and again.json() == {"received": True, "duplicate": True}
        another = await deliver(api, payload, razorpay_headers(payload))  # another event of the same payment
        assert another.json() == {"received": True, "duplicate": False}
        await settle()
        assert len(phone.of("payment_received")) == 1
    finally:
        await phone.close()
    async with db.connection() as conn:
        rows = await conn.fetch(
            "SELECT method, amount, provider_ref FROM payments WHERE order_id = $1", uuid.UUID(order["id"])
        )
        outcomes = await conn.fetch(
            "SELECT outcome FROM webhook_events WHERE provider = 'razorpay' AND event_id = ANY($1::text[])",
            [headers["X-Razorpay-Event-Id"]],
        )
    assert [dict(r) for r in rows] == [{"method": "razorpay", "amount": order["total"], "provider_ref": payment_id}]
    assert [r["outcome"] for r in outcomes] == ["paid"]
    late = await _intent(api, order, shop.customer)
    assert late.status_code == 409 and late.json()["error"]["code"] == "not_payable"


async def test_a_link_made_but_not_heard_of_is_found_not_made_twice(online: Providers, shop: Shop) -> None:
    api = online.api
    order = await _ordered(api, shop, shop.customer)
    online.razorpay.lost_answers = 1
    try:
        lost = await _intent(api, order, shop.customer)
    finally:
        online.razorpay.lost_answers = 0
    assert lost.status_code == 503 and lost.json()["error"]["code"] == "unavailable", lost.text
    found = await _intent(api, order, shop.customer)
    assert found.status_code == 200, found.text
    ref = reference(f"gatehouse-order-{order['id']}")
    links = [link for link in online.razorpay.links.values() if link["reference_id"] == ref]
    assert len(links) == 1 and found.json()["intent_id"] == links[0]["id"]


async def test_forged_stale_or_misaddressed_webhooks_change_nothing(
    online: Providers, shop: Shop, db: Database
) -> None:
    api = online.api
    order = await _ordered(api, shop, shop.customer)
    intent = (await _intent(api, order, shop.customer)).json()
    payload, _ = link_paid(intent)
    good = razorpay_headers(payload)
    answers = {
        "unsigned": await deliver(api, payload, {"Content-Type": "application/json"}),
        "forged": await deliver(api, payload, razorpay_headers(payload, secret=secrets.token_hex(16))),
        "keyed with the API secret": await deliver(api, payload, razorpay_headers(payload, secret=KEY_SECRET)),
        "tampered": await deliver(api, payload.replace(b'"captured"', b'"captured" '), good),
        "no event id": await deliver(api, payload, {**good, "X-Razorpay-Event-Id": ""}),
        "not an event": await deliver(api, b"[1, 2]", razorpay_headers(b"[1, 2]")),
        "not json": await deliver(api, b"garbage", razorpay_headers(b"garbage")),
    }
    for what, answer in answers.items():
        assert answer.status_code == 400, (what, answer.text)
        assert answer.json()["error"]["code"] == "bad_signature", what
    stripe_signed = await deliver(api, payload, stripe_headers(payload))
    assert stripe_signed.status_code == 400 and stripe_signed.json()["error"]["code"] == "wrong_provider"
    assert "stripe" in stripe_signed.json()["error"]["message"]
    to_stripe = await deliver(api, payload, good, route=STRIPE_ROUTE)
    assert to_stripe.status_code == 400 and to_stripe.json()["error"]["code"] == "wrong_provider"
    wrong_type = await api.client.post(RAZORPAY_ROUTE, content=payload, headers={**good, "Content-Type": "text/plain"})
    assert wrong_type.status_code == 415
    assert await _status(api, order, shop.customer) == "pending"
    async with db.connection() as conn:
        seen = await conn.fetchval(
            "SELECT count(*) FROM webhook_events WHERE event_id = $1", good["X-Razorpay-Event-Id"]
        )
    assert seen == 0, "nothing refused was noted as seen"
    assert (await deliver(api, payload, good)).json() == {"received": True, "duplicate": False}
    assert await _status(api, order, shop.customer) == "paid"


async def test_a_cancelled_order_is_refunded_through_razorpay_once_though_an_answer_is_lost(
    online: Providers, shop: Shop, db: Database
) -> None:
    api = online.api
    order = await _ordered(api, shop, shop.customer)
    intent = (await _intent(api, order, shop.customer)).json()
    payload, payment_id = link_paid(intent)
    assert (await deliver(api, payload, razorpay_headers(payload))).status_code == 200
    online.razorpay.lost_answers, online.razorpay.refund_status = 1, "pending"
    phone = await connect(online.server.url, shop.customer.access_token)
    try:
        cancelled = await api.post(f"/v1/orders/{order['id']}/status", {"to": "cancelled"}, shop.manager)
        assert cancelled.status_code == 200, cancelled.text
        # The first request is taken but its answer lost; the job tries again after its backoff (5 s), finds
        # the refund by its receipt, and asks for none more.
        (asked,) = await phone.wait_for("refund_updated", timeout=15)
        assert (asked["data"]["provider"], asked["data"]["status"]) == ("razorpay", "pending")
        (made,) = online.razorpay.refunds[payment_id]
        assert made["amount"] == order["total"] and len(online.razorpay.of("refund")) == 1
        done = razorpay_event("refund.processed", refund={**made, "status": "processed"}, payment={"id": payment_id})
        assert (await deliver(api, done, razorpay_headers(done))).status_code == 200
        (_, went) = await phone.wait_for("refund_updated", count=2)
        assert went["data"]["status"] == "succeeded"
    finally:
        await phone.close()
        online.razorpay.lost_answers, online.razorpay.refund_status = 0, "processed"
    async with db.connection() as conn:
        refunds = await conn.fetch(
            "SELECT provider, intent_id, status, provider_ref FROM refunds WHERE order_id = $1", uuid.UUID(order["id"])
        )
    assert [dict(r) for r in refunds] == [
        {"provider": "razorpay", "intent_id": payment_id, "status": "succeeded", "provider_ref": made["id"]}
    ]


async def test_money_from_the_other_provider_for_a_paid_order_goes_back_there(
    online: Providers, shop: Shop, db: Database
) -> None:
    api = online.api
    order = await _ordered(api, shop, shop.other_customer)
    by_default = await _intent(api, order, shop.other_customer, provider=None)
    assert by_default.status_code == 200 and by_default.json()["provider"] == "stripe", "Stripe is first"
    assert by_default.json()["client_secret"] and by_default.json()["payment_url"] is None
    on_razorpay = (await _intent(api, order, shop.other_customer)).json()
    payload, _ = link_paid(on_razorpay)
    assert (await deliver(api, payload, razorpay_headers(payload))).status_code == 200
    late = _succeeded(by_default.json())
    assert (await deliver(api, late, stripe_headers(late), route=STRIPE_ROUTE)).status_code == 200
    await settle(2.0)
    async with db.connection() as conn:
        refunds = await conn.fetch(
            "SELECT provider, reason, intent_id FROM refunds WHERE order_id = $1", uuid.UUID(order["id"])
        )
    assert [dict(r) for r in refunds] == [
        {"provider": "stripe", "reason": "not_payable", "intent_id": by_default.json()["intent_id"]}
    ]
    assert await _status(api, order, shop.other_customer) == "paid"


async def test_who_may_pay_online_what_they_may_send_and_where_it_is_off(
    online: Providers, shop: Shop, api: Api
) -> None:
    order = await _ordered(online.api, shop, shop.customer)
    assert (await _intent(online.api, order, shop.other_customer)).status_code == 404
    assert (await _intent(online.api, order, shop.employee)).status_code == 403
    for bad in ({"provider": "paypal"}, {"provider": 7}, {"provider": "Razorpay"}):
        answer = await online.api.post(f"/v1/orders/{order['id']}/payment-intent", bad, shop.customer)
        assert answer.status_code == 422 and answer.json()["error"]["details"][0]["field"] == "provider", answer.text
    for garbled in (b"{", b"[]", b'"razorpay"'):
        answer = await online.api.client.post(
            f"/v1/orders/{order['id']}/payment-intent",
            content=garbled,
            headers={**shop.customer.headers, "Content-Type": "application/json"},
        )
        assert answer.status_code == 400 and answer.json()["error"]["code"] == "malformed_json", answer.text
    # The server the rest of the suite runs has no provider configured: neither intents nor webhooks.
    other = await _ordered(api, shop, shop.customer)
    off = await _intent(api, other, shop.customer)
    assert off.status_code == 409 and off.json()["error"]["code"] == "online_payments_off"
    payload = razorpay_event("payment_link.paid")
    nowhere = await deliver(api, payload, razorpay_headers(payload))
    assert nowhere.status_code == 404 and nowhere.json()["error"]["code"] == "payments_not_configured"


async def test_an_order_paid_in_cash_and_cancelled_records_the_cash_handed_back(
    online: Providers, shop: Shop, db: Database
) -> None:
    api = online.api
    order = await _ordered(api, shop, shop.customer)
    paid = await api.post(
        f"/v1/orders/{order['id']}/payments", {"method": "cash", "amount": order["total"]}, shop.employee
    )
    assert paid.status_code == 201, paid.text
    phone = await connect(online.server.url, shop.customer.access_token)
    try:
        assert (
            await api.post(f"/v1/orders/{order['id']}/status", {"to": "cancelled"}, shop.manager)
        ).status_code == 200
        (handed,) = await phone.wait_for("refund_updated")
        assert (handed["data"]["provider"], handed["data"]["status"], handed["data"]["amount"]) == (
            "cash",
            "succeeded",
            order["total"],
        )
    finally:
        await phone.close()
    async with db.connection() as conn:
        count = await conn.fetchval("SELECT count(*) FROM refunds WHERE order_id = $1", uuid.UUID(order["id"]))
    assert count == 1


def test_razorpay_needs_all_three_secrets_and_another_address_only_in_development() -> None:
    env = {
        "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/postgres",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "JWT_SECRET": "s" * 40,
        "RAZORPAY_KEY_ID": "rzp_test_1",
        "RAZORPAY_KEY_SECRET": KEY_SECRET,
    }
    with pytest.raises(ConfigError, match="RAZORPAY_WEBHOOK_SECRET"):
        load_settings(env)
    full = {**env, "RAZORPAY_WEBHOOK_SECRET": RAZORPAY_WEBHOOK_SECRET}
    loaded = load_settings(full)
    assert KEY_SECRET not in repr(loaded) and RAZORPAY_WEBHOOK_SECRET not in repr(loaded)
    with pytest.raises(ConfigError, match="RAZORPAY_API_BASE"):
        load_settings({**full, "RAZORPAY_API_BASE": "http://127.0.0.1:9"})
    assert load_settings({**full, "RAZORPAY_API_BASE": "http://127.0.0.1:9", "ALLOW_INSECURE_DEV": "true"})
