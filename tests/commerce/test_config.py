"""The configuration as a shop's customers meet it: the rates and flags that apply there, and, read from the
mall domain where they are kept, the mall's currency and the shop's hours with whether it is open now."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from tests.commerce.conftest import Shop
from tests.helpers import Api, User

KOLKATA = zoneinfo.ZoneInfo("Asia/Kolkata")  # the test mall's clock


def _clock(minutes_from_now: int) -> str:
    return (dt.datetime.now(KOLKATA) + dt.timedelta(minutes=minutes_from_now)).strftime("%H:%M")


async def _open_now(api: Api, admin: User, shop: Shop, opens: str, closes: str) -> bool | None:
    hours = {"opens": opens, "closes": closes}
    changed = await api.client.patch(f"/v1/shops/{shop.id}", json={"hours": hours}, headers=admin.headers)
    assert changed.status_code == 200, changed.text
    applied = (await api.get("/v1/config", shop.customer, params={"shop_id": shop.id})).json()
    assert applied["opening_hours"] == hours
    return applied["open_now"]


async def test_a_shop_says_its_currency_its_hours_and_whether_it_is_open(api: Api, admin: User, shop: Shop) -> None:
    applied = await api.get("/v1/config", shop.customer, params={"shop_id": shop.id})
    assert applied.status_code == 200, applied.text
    body = applied.json()
    assert (body["shop_id"], body["currency"], body["opening_hours"], body["open_now"]) == (shop.id, "INR", None, None)
    assert body["loyalty_enabled"] is True and body["online_payments_enabled"] is True
    # Two hours either side of now, on the mall's clock (the test keeps off the minutes around midnight).
    now = dt.datetime.now(KOLKATA)
    if dt.time(2, 5) <= now.time() <= dt.time(21, 55):
        assert await _open_now(api, admin, shop, _clock(-120), _clock(120)) is True
        assert await _open_now(api, admin, shop, _clock(60), _clock(120)) is False
        assert await _open_now(api, admin, shop, _clock(60), _clock(-60)) is False, "closed until after midnight"
        assert await _open_now(api, admin, shop, _clock(-60), _clock(-120)) is True, "open past midnight"
    assert await _open_now(api, admin, shop, "10:00", "10:00") is True, "the same time: round the clock"
    missing = await api.get("/v1/config", shop.customer, params={"shop_id": "00000000-0000-4000-8000-000000000000"})
    assert missing.status_code == 404


async def test_a_closed_shop_takes_no_customer_orders_unless_it_takes_pre_orders(
    api: Api, admin: User, shop: Shop
) -> None:
    product = await api.created(
        "/v1/products", {"shop_id": shop.id, "name": "Samosa", "price": 3000, "stock": 5}, shop.manager
    )
    cart = await api.post("/v1/cart/items", {"product_id": product["id"], "quantity": 1}, shop.customer)
    assert cart.status_code in (200, 201), cart.text
    # Open from two hours ahead for an hour, on the mall's clock: closed now, whatever the time of day.
    assert await _open_now(api, admin, shop, _clock(120), _clock(180)) is False
    refused = await api.post("/v1/orders", {"shop_id": shop.id}, shop.customer)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "shop_closed", refused.text
    assert refused.json()["error"]["details"]["timezone"] == "Asia/Kolkata"
    kept = await api.get("/v1/cart", shop.customer, params={"shop_id": shop.id})
    assert [line["product_id"] for line in kept.json()["items"]] == [product["id"]], "the cart is kept"
    counter = await api.post(
        "/v1/orders", {"shop_id": shop.id, "items": [{"product_id": product["id"], "quantity": 1}]}, shop.employee
    )
    assert counter.status_code == 201, "the counter's staff are there: hours do not bind them"
    flag = await api.client.patch(
        "/v1/config", json={"shop_id": shop.id, "pre_orders_enabled": True}, headers=admin.headers
    )
    assert flag.status_code == 200 and flag.json()["pre_orders_enabled"] is True
    ordered = await api.post("/v1/orders", {"shop_id": shop.id}, shop.customer)
    assert ordered.status_code == 201, ordered.text
    overall = await api.get("/v1/config", shop.customer)
    assert overall.json()["pre_orders_enabled"] is False, "other shops keep the global flag"
