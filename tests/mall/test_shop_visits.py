"""Customers' visits to shops: checked in at the counter by the shop's staff or by scanning the code the
counter shows today, once per customer, shop and day; the shop's room hears each new one, the customer
lists where they went, and the shop sees its days. Codes the server did not make, or another day's, and
other people's shops are refused."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
import zoneinfo

from tests.helpers import Api, User, connect
from tests.mall.conftest import Mall


async def _shop(api: Api, mall: Mall, name: str = "Gift Corner") -> tuple[dict, User]:
    shop = await api.created("/v1/shops", {"mall_id": mall.id, "name": name, "shop_type": "retail"}, mall.mall_admin)
    clerk = await api.signup(f"Clerk of {name}")
    await api.grant(mall.mall_admin, clerk, "employee", "shop", shop["id"])
    return shop, clerk


async def test_a_customer_checks_in_by_code_and_at_the_counter_once_a_day(api: Api, server, mall: Mall) -> None:
    shop, clerk = await _shop(api, mall)
    listener = await connect(server.url, clerk.access_token)
    try:
        assert (await listener.join("shop", shop["id"]))["ok"] is True
        code = await api.get(f"/v1/shops/{shop['id']}/visit-code", clerk)
        assert code.status_code == 200, code.text
        scanned = await api.post("/v1/shop-visits/qr", {"code": code.json()["code"]}, mall.shopper)
        assert scanned.status_code == 201, scanned.text
        assert scanned.json()["method"] == "qr" and scanned.json()["shop_name"] == "Gift Corner"
        (event,) = await listener.wait_for("shop_visited")
        assert event["data"]["user_id"] == mall.shopper.id
        again = await api.post("/v1/shop-visits", {"shop_id": shop["id"], "user_id": mall.shopper.id}, clerk)
        assert again.status_code == 200 and again.json()["id"] == scanned.json()["id"], "once a day"
    finally:
        await listener.close()
    other, other_clerk = await _shop(api, mall, "Book Nook")
    counted = await api.post("/v1/shop-visits", {"shop_id": other["id"], "user_id": mall.shopper.id}, other_clerk)
    assert counted.status_code == 201 and counted.json()["method"] == "counter"
    mine = await api.get("/v1/shop-visits/mine", mall.shopper)
    assert [v["shop_name"] for v in mine.json()["items"]] == ["Book Nook", "Gift Corner"]
    today = dt.datetime.now(zoneinfo.ZoneInfo("Asia/Kolkata")).date()
    days = await api.get(
        f"/v1/shops/{shop['id']}/visits", mall.mall_admin, params={"from": str(today - dt.timedelta(days=2))}
    )
    assert days.status_code == 200, days.text
    assert [(d["day"], d["visits"], d["first_visits"]) for d in days.json()["items"]] == [
        (str(today - dt.timedelta(days=2)), 0, 0),
        (str(today - dt.timedelta(days=1)), 0, 0),
        (str(today), 1, 1),
    ]


async def test_many_check_ins_at_once_are_one_visit(api: Api, mall: Mall) -> None:
    shop, clerk = await _shop(api, mall)
    body = {"shop_id": shop["id"], "user_id": mall.shopper.id}
    answers = await asyncio.gather(*(api.post("/v1/shop-visits", body, clerk) for _ in range(6)))
    assert sorted(a.status_code for a in answers) == [200] * 5 + [201]
    assert len({a.json()["id"] for a in answers}) == 1


async def test_codes_not_made_here_or_from_another_day_are_refused(api: Api, mall: Mall) -> None:
    shop, clerk = await _shop(api, mall)
    good = (await api.get(f"/v1/shops/{shop['id']}/visit-code", clerk)).json()["code"]
    shop_id, day, signature = good.split(".")
    yesterday = str(dt.date.fromisoformat(day) - dt.timedelta(days=1))
    for code, error in (
        (f"{shop_id}.{day}.{signature[:-2]}xx", "invalid_code"),
        (f"{shop_id}.{yesterday}.{signature}", "invalid_code"),
        (f"{uuid.uuid4()}.{day}.{signature}", "invalid_code"),
        ("' OR 1=1 --", "invalid_code"),
        (f"{shop_id}.not-a-day.{signature}", "invalid_code"),
    ):
        response = await api.post("/v1/shop-visits/qr", {"code": code}, mall.shopper)
        assert response.status_code == 422 and response.json()["error"]["code"] == error, (code, response.text)
    assert (await api.post("/v1/shop-visits/qr", {"code": ""}, mall.shopper)).status_code == 422
    assert (await api.post("/v1/shop-visits/qr", {}, mall.shopper)).status_code == 422
    assert (await api.get("/v1/shop-visits/mine", mall.shopper)).json()["items"] == []


async def test_only_the_shops_staff_check_in_show_codes_or_count(api: Api, mall: Mall) -> None:
    shop, clerk = await _shop(api, mall)
    other, _ = await _shop(api, mall, "Elsewhere")
    body = {"shop_id": shop["id"], "user_id": mall.shopper.id}
    for outsider in (mall.shopper, mall.security, mall.other_security):
        assert (await api.post("/v1/shop-visits", body, outsider)).status_code == 403
        assert (await api.get(f"/v1/shops/{shop['id']}/visit-code", outsider)).status_code == 403
        assert (await api.get(f"/v1/shops/{shop['id']}/visits", outsider)).status_code == 404
    assert (await api.get(f"/v1/shops/{other['id']}/visits", clerk)).status_code == 404
    unknown = await api.post("/v1/shop-visits", {"shop_id": shop["id"], "user_id": str(uuid.uuid4())}, clerk)
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "unknown_customer"
    backwards = await api.get(
        f"/v1/shops/{shop['id']}/visits", clerk, params={"from": "2026-02-01", "to": "2026-01-01"}
    )
    assert backwards.status_code == 422
    too_long = await api.get(f"/v1/shops/{shop['id']}/visits", clerk, params={"from": "2020-01-01", "to": "2026-01-01"})
    assert too_long.status_code == 422
