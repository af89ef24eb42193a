"""Ticket checkouts paid online through the shops' providers (local stand-ins, tests/razorpay.py): the buyer
pays a held reservation on Razorpay's page (or in their app through Stripe), the webhook marks it paid and
the seats stay taken, the expiry sweep leaves it be; refunding it sends the money back through the
provider; money that comes after the hold ran out goes back; a refund at the counter is recorded too."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx

from app.platform.db import Database
from tests.commerce.test_stripe import _succeeded
from tests.helpers import Api, User, connect
from tests.mall.conftest import Mall
from tests.mall.test_cinema import _showing
from tests.razorpay import (
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


async def _held(api: Api, mall: Mall, tickets: int = 2, seats: int = 10) -> tuple[dict[str, Any], dict[str, Any]]:
    showing = await _showing(api, mall, seats=seats)
    held = await api.created("/v1/ticket-checkouts", {"showing_id": showing["id"], "tickets": tickets}, mall.shopper)
    return showing, held


async def _intent(api: Api, held: dict[str, Any], user: User, provider: str | None = "razorpay") -> httpx.Response:
    body = None if provider is None else {"provider": provider}
    return await api.post(f"/v1/ticket-checkouts/{held['id']}/payment-intent", body, user)


async def _refunds(db: Database, checkout_id: str) -> list[dict[str, Any]]:
    async with db.connection() as conn:
        rows = await conn.fetch(
            "SELECT provider, reason, status, amount FROM ticket_refunds WHERE checkout_id = $1 ORDER BY created_at",
            uuid.UUID(checkout_id),
        )
    return [dict(r) for r in rows]


async def _seats_left(api: Api, mall: Mall, showing: dict[str, Any]) -> int:
    return (await api.get(f"/v1/showings/{showing['id']}", mall.shopper)).json()["seats_left"]


async def test_a_reservation_paid_on_razorpay_keeps_its_seats_and_outlives_its_hold(
    online: Providers, mall: Mall, db: Database
) -> None:
    api = online.api
    showing, held = await _held(api, mall)
    first = await _intent(api, held, mall.shopper)
    assert first.status_code == 200, first.text
    intent = first.json()
    assert (intent["checkout_id"], intent["provider"], intent["amount"], intent["currency"]) == (
        held["id"],
        "razorpay",
        held["total"],
        "INR",
    )
    assert intent["payment_url"].startswith("https://rzp.io/i/") and intent["client_secret"] is None
    assert (await _intent(api, held, mall.shopper)).json() == intent, "asking again gives the same link"
    buyer = await connect(online.server.url, mall.shopper.access_token)
    try:
        payload, _ = link_paid(intent)
        headers = razorpay_headers(payload)
        taken = await deliver(api, payload, headers)
        assert taken.status_code == 200 and taken.json()["duplicate"] is False, taken.text
        (paid,) = await buyer.wait_for("ticket_checkout")
        assert (paid["data"]["id"], paid["data"]["status"], paid["data"]["payment_method"]) == (
            held["id"],
            "paid",
            "razorpay",
        )
        assert (await deliver(api, payload, headers)).json()["duplicate"] is True
    finally:
        await buyer.close()
    assert await _seats_left(api, mall, showing) == 8, "the seats stay taken"
    # The hold runs out and the sweep comes by (this server runs the jobs): a paid checkout is not its business.
    async with db.connection() as conn:
        await conn.execute(
            "UPDATE ticket_checkouts SET expires_at = now() - interval '1 second' WHERE id = $1", held["id"]
        )
        await conn.execute("UPDATE job_schedules SET next_run_at = now() WHERE name = 'mall.expire_ticket_holds'")
        for _ in range(50):
            await asyncio.sleep(0.1)
            if await conn.fetchval(
                "SELECT next_run_at > now() FROM job_schedules WHERE name = 'mall.expire_ticket_holds'"
            ):
                break
    await asyncio.sleep(0.5)
    seen = (await api.get(f"/v1/ticket-checkouts/{held['id']}", mall.shopper)).json()
    assert seen["status"] == "paid" and await _seats_left(api, mall, showing) == 8
    late = await _intent(api, held, mall.shopper)
    assert late.status_code == 409 and late.json()["error"]["code"] == "not_payable"


async def test_the_buyer_refunds_a_paid_online_checkout_through_the_provider(
    online: Providers, mall: Mall, db: Database
) -> None:
    api = online.api
    showing, held = await _held(api, mall, tickets=3)
    intent = (await _intent(api, held, mall.shopper)).json()
    payload, payment_id = link_paid(intent)
    assert (await deliver(api, payload, razorpay_headers(payload))).status_code == 200
    online.razorpay.refund_status = "pending"
    try:
        refunded = await api.post(f"/v1/ticket-checkouts/{held['id']}/cancel", {}, mall.shopper)
        assert refunded.status_code == 200 and refunded.json()["status"] == "refunded", refunded.text
        for _ in range(100):
            if online.razorpay.refunds.get(payment_id):
                break
            await asyncio.sleep(0.1)
    finally:
        online.razorpay.refund_status = "processed"
    (made,) = online.razorpay.refunds[payment_id]
    assert made["amount"] == held["total"]
    assert await _seats_left(api, mall, showing) == 10
    done = razorpay_event("refund.processed", refund={**made, "status": "processed"}, payment={"id": payment_id})
    answer = await deliver(api, done, razorpay_headers(done))
    assert answer.status_code == 200, answer.text
    assert await _refunds(db, held["id"]) == [
        {"provider": "razorpay", "reason": "refunded", "status": "succeeded", "amount": held["total"]}
    ]


async def test_money_that_comes_after_the_seats_were_let_go_goes_back(
    online: Providers, mall: Mall, db: Database
) -> None:
    api = online.api
    showing, held = await _held(api, mall)
    intent = (await _intent(api, held, mall.shopper, provider="stripe")).json()
    assert intent["provider"] == "stripe" and intent["client_secret"] and intent["payment_url"] is None
    let_go = await api.post(f"/v1/ticket-checkouts/{held['id']}/cancel", {}, mall.shopper)
    assert let_go.json()["status"] == "cancelled"
    late = _succeeded(intent)
    assert (await deliver(api, late, stripe_headers(late), route=STRIPE_ROUTE)).status_code == 200
    for _ in range(100):
        if (refunds := await _refunds(db, held["id"])) and refunds[0]["status"] != "pending":
            break
        await asyncio.sleep(0.1)
    assert refunds == [{"provider": "stripe", "reason": "not_payable", "status": "succeeded", "amount": held["total"]}]
    seen = (await api.get(f"/v1/ticket-checkouts/{held['id']}", mall.shopper)).json()
    assert seen["status"] == "cancelled" and await _seats_left(api, mall, showing) == 10


async def test_who_may_pay_tickets_online_and_what_they_may_send(
    online: Providers, mall: Mall, db: Database, api: Api
) -> None:
    showing, held = await _held(online.api, mall)
    cashier = await online.api.signup("Box Office")
    await online.api.grant(mall.mall_admin, cashier, "employee", "shop", showing["cinema_id"])
    assert (await _intent(online.api, held, mall.security)).status_code == 404
    assert (await _intent(online.api, held, cashier)).status_code == 403, "staff take money at the counter"
    for bad in ({"provider": "paypal"}, {"provider": 3}):
        answer = await online.api.post(f"/v1/ticket-checkouts/{held['id']}/payment-intent", bad, mall.shopper)
        assert answer.status_code == 422, answer.text
    missing = await online.api.post(f"/v1/ticket-checkouts/{uuid.uuid4()}/payment-intent", None, mall.shopper)
    assert missing.status_code == 404
    off = await _intent(api, held, mall.shopper, provider=None)  # the suite's server has no provider
    assert off.status_code == 409 and off.json()["error"]["code"] == "online_payments_off"
    # Paid at the counter, a checkout is not paid online, and the buyer does not refund it themselves; the
    # staff's refund is recorded as the cash handed back.
    paid = await online.api.post(
        f"/v1/ticket-checkouts/{held['id']}/payments", {"method": "cash", "amount": held["total"]}, cashier
    )
    assert paid.status_code == 200, paid.text
    assert (await _intent(online.api, held, mall.shopper)).json()["error"]["code"] == "not_payable"
    assert (await online.api.post(f"/v1/ticket-checkouts/{held['id']}/cancel", {}, mall.shopper)).status_code == 403
    assert (await online.api.post(f"/v1/ticket-checkouts/{held['id']}/cancel", {}, cashier)).status_code == 200
    assert await _refunds(db, held["id"]) == [
        {"provider": "cash", "reason": "refunded", "status": "succeeded", "amount": held["total"]}
    ]
