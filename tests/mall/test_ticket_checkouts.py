"""Ticket checkouts hold their seats while `reserved`, are paid at the cinema's counter by its staff, and
end `cancelled` (let go by the buyer or the staff, or run out: the expiry job) or `refunded` (a paid one,
by the staff, before the showing); every end gives the seats back, and the buyer hears each change."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from tests.conftest import RunningServer
from tests.helpers import Api, User, connect
from tests.mall.conftest import Mall
from tests.mall.test_cinema import _showing


async def _cashier(api: Api, mall: Mall, showing: dict) -> User:
    cashier = await api.signup("Box Office")
    await api.grant(mall.mall_admin, cashier, "employee", "shop", showing["cinema_id"])
    return cashier


async def _seats_left(api: Api, mall: Mall, showing: dict) -> int:
    return (await api.get(f"/v1/showings/{showing['id']}", mall.shopper)).json()["seats_left"]


async def test_a_reservation_is_paid_at_the_counter_then_refunded(api: Api, server, mall: Mall) -> None:
    showing = await _showing(api, mall, seats=10)
    cashier = await _cashier(api, mall, showing)
    buyer = await connect(server.url, mall.shopper.access_token)
    try:
        held = await api.created("/v1/ticket-checkouts", {"showing_id": showing["id"], "tickets": 4}, mall.shopper)
        assert held["status"] == "reserved" and held["paid_at"] is None
        hold = dt.datetime.fromisoformat(held["expires_at"]) - dt.datetime.fromisoformat(held["created_at"])
        assert dt.timedelta(minutes=9) < hold <= dt.timedelta(minutes=10)
        assert await _seats_left(api, mall, showing) == 6, "held seats are taken"
        pay = f"/v1/ticket-checkouts/{held['id']}/payments"
        assert (await api.post(pay, {"method": "cash", "amount": held["total"]}, mall.shopper)).status_code == 403
        assert (await api.post(pay, {"method": "cash", "amount": held["total"]}, mall.security)).status_code == 404
        short = await api.post(pay, {"method": "cash", "amount": held["total"] - 1}, cashier)
        assert short.status_code == 422 and short.json()["error"]["code"] == "amount_mismatch"
        paid = await api.post(pay, {"method": "wallet", "amount": held["total"]}, cashier)
        assert paid.status_code == 200 and paid.json()["status"] == "paid" and paid.json()["payment_method"] == "wallet"
        again = await api.post(pay, {"method": "cash", "amount": held["total"]}, cashier)
        assert again.status_code == 409 and again.json()["error"]["code"] == "not_payable"
        cancel = f"/v1/ticket-checkouts/{held['id']}/cancel"
        assert (await api.post(cancel, {}, mall.shopper)).status_code == 403, "the buyer asks at the counter"
        refunded = await api.post(cancel, {}, cashier)
        assert refunded.status_code == 200 and refunded.json()["status"] == "refunded"
        assert await _seats_left(api, mall, showing) == 10
        heard = await buyer.wait_for("ticket_checkout", 3)
        assert [e["data"]["status"] for e in heard] == ["reserved", "paid", "refunded"]
    finally:
        await buyer.close()
    assert (await api.post(f"/v1/ticket-checkouts/{held['id']}/cancel", {}, cashier)).json()["error"][
        "code"
    ] == "already_ended"


async def test_a_buyer_lets_a_reservation_go_and_others_see_nothing(api: Api, mall: Mall) -> None:
    showing = await _showing(api, mall, seats=5)
    cashier = await _cashier(api, mall, showing)
    held = await api.created("/v1/ticket-checkouts", {"showing_id": showing["id"], "tickets": 5}, mall.shopper)
    sold_out = await api.post("/v1/ticket-checkouts", {"showing_id": showing["id"], "tickets": 1}, mall.security)
    assert sold_out.status_code == 409 and sold_out.json()["error"]["code"] == "sold_out"
    for outsider in (mall.security, mall.other_security):
        assert (await api.get(f"/v1/ticket-checkouts/{held['id']}", outsider)).status_code == 404
        assert (await api.post(f"/v1/ticket-checkouts/{held['id']}/cancel", {}, outsider)).status_code == 404
    assert (await api.get(f"/v1/ticket-checkouts/{held['id']}", cashier)).status_code == 200
    let_go = await api.post(f"/v1/ticket-checkouts/{held['id']}/cancel", {}, mall.shopper)
    assert let_go.status_code == 200 and let_go.json()["status"] == "cancelled"
    late = await api.post(
        f"/v1/ticket-checkouts/{held['id']}/payments", {"method": "card", "amount": held["total"]}, cashier
    )
    assert late.status_code == 409 and late.json()["error"]["code"] == "not_payable"
    now_free = await api.post("/v1/ticket-checkouts", {"showing_id": showing["id"], "tickets": 5}, mall.security)
    assert now_free.status_code == 201
    for bad in ({"method": "cheque", "amount": 100}, {"method": "cash", "amount": 0}, {"method": "cash"}):
        response = await api.post(f"/v1/ticket-checkouts/{now_free.json()['id']}/payments", bad, cashier)
        assert response.status_code == 422, bad


async def test_a_hold_that_runs_out_is_cancelled_by_the_expiry_job(settings, api: Api, server, mall: Mall, db) -> None:
    showing = await _showing(api, mall, seats=3)
    held = await api.created("/v1/ticket-checkouts", {"showing_id": showing["id"], "tickets": 3}, mall.shopper)
    kept = await api.created(
        "/v1/ticket-checkouts", {"showing_id": (await _showing(api, mall))["id"], "tickets": 1}, mall.shopper
    )
    async with db.connection() as conn:
        await conn.execute(
            "UPDATE ticket_checkouts SET expires_at = now() - interval '1 second' WHERE id = $1", held["id"]
        )
        await conn.execute("UPDATE job_schedules SET next_run_at = now() WHERE name = 'mall.expire_ticket_holds'")
    buyer = await connect(server.url, mall.shopper.access_token)
    sweeper = RunningServer(replace(settings, run_jobs=True))
    await sweeper.start()
    try:
        (event,) = await buyer.wait_for("ticket_checkout", timeout=15)
        assert event["data"]["id"] == held["id"] and event["data"]["status"] == "cancelled"
    finally:
        await sweeper.stop()
        await buyer.close()
    assert await _seats_left(api, mall, showing) == 3
    assert (await api.get(f"/v1/ticket-checkouts/{kept['id']}", mall.shopper)).json()["status"] == "reserved"
