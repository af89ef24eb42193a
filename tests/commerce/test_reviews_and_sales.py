"""Reviews come only from customers who received the product, once each, and move its rating; a shop's
sales are for its managers and its mall's admins: revenue by day, best sellers, payments by method."""

from __future__ import annotations

import datetime as dt

from tests.commerce.conftest import Shop, product_body
from tests.helpers import Api, User


async def _sell(api: Api, shop: Shop, customer: User, product: dict, quantity: int, method: str, to: str) -> dict:
    line = {"product_id": product["id"], "quantity": quantity}
    order = await api.created(
        "/v1/orders", {"shop_id": shop.id, "items": [line], "customer_id": customer.id}, shop.employee
    )
    paid = await api.post(
        f"/v1/orders/{order['id']}/payments", {"method": method, "amount": order["total"]}, shop.employee
    )
    assert paid.status_code == 201, paid.text
    kitchen = ["preparing", "ready", "completed"]
    for step in kitchen[: kitchen.index(to) + 1] if to in kitchen else []:
        assert (await api.post(f"/v1/orders/{order['id']}/status", {"to": step}, shop.employee)).status_code == 200
    return order


async def test_only_customers_who_received_a_product_review_it_once(api: Api, shop: Shop) -> None:
    mug = await api.created("/v1/products", product_body(shop.id, "Mug", 30000, stock=10), shop.manager)
    path = f"/v1/products/{mug['id']}/reviews"
    assert (await api.post(path, {"rating": 5}, shop.customer)).status_code == 403, "not bought yet"
    await _sell(api, shop, shop.customer, mug, 1, "cash", "ready")
    early = await api.post(path, {"rating": 5}, shop.customer)
    assert early.status_code == 403 and early.json()["error"]["code"] == "not_received", "not handed over yet"
    await _sell(api, shop, shop.customer, mug, 1, "cash", "completed")
    await _sell(api, shop, shop.other_customer, mug, 1, "card", "completed")
    mine = await api.post(path, {"rating": 4, "body": "  Holds heat well.  "}, shop.customer)
    assert mine.status_code == 201 and mine.json()["body"] == "Holds heat well."
    assert (await api.post(path, {"rating": 1}, shop.customer)).status_code == 409
    assert (await api.post(path, {"rating": 2}, shop.other_customer)).status_code == 201
    for bad in ({"rating": 0}, {"rating": 6}, {"rating": "5"}, {"rating": 3, "body": "x" * 2001}, {}):
        assert (await api.post(path, bad, shop.employee)).status_code == 422, bad
    product = (await api.get(f"/v1/products/{mug['id']}", shop.customer)).json()
    assert (product["rating"], product["rating_count"]) == (3.0, 2)
    listed = (await api.get(path, shop.customer, params={"limit": 1})).json()
    assert listed["items"][0]["rating"] == 2 and listed["next_cursor"]
    rest = (await api.get(path, shop.customer, params={"cursor": listed["next_cursor"]})).json()
    assert [r["author"] for r in rest["items"]] == ["Customer"]
    best = await api.get("/v1/products", shop.customer, params={"shop_id": shop.id, "sort": "rating", "limit": 1})
    assert best.json()["items"][0]["id"] == mug["id"]


async def test_sales_by_day_best_sellers_and_methods(api: Api, admin: User, shop: Shop) -> None:
    tea = await api.created("/v1/products", product_body(shop.id, "Tea", 4000), shop.manager)
    cake = await api.created("/v1/products", product_body(shop.id, "Cake", 15000, stock=9), shop.manager)
    await _sell(api, shop, shop.customer, tea, 3, "cash", "completed")
    await _sell(api, shop, shop.customer, cake, 2, "card", "paid")
    unpaid = await api.created(
        "/v1/orders", {"shop_id": shop.id, "items": [{"product_id": tea["id"], "quantity": 9}]}, shop.employee
    )
    assert unpaid["status"] == "pending"
    path = f"/v1/shops/{shop.id}/sales"
    sales = await api.get(path, shop.manager)
    assert sales.status_code == 200, sales.text
    body = sales.json()
    # 3 x 4000 and 2 x 15000, each with 5 % tax: 12600 and 31500; the unpaid order is not a sale.
    assert (body["orders"], body["revenue"], body["average_order"]) == (2, 44100, 22050)
    assert [(p["name"], p["quantity"], p["revenue"]) for p in body["top_products"]] == [
        ("Cake", 2, 30000),
        ("Tea", 3, 12000),
    ]
    assert {(m["method"], m["payments"], m["amount"]) for m in body["payments"]} == {
        ("cash", 1, 12600),
        ("card", 1, 31500),
    }
    (today,) = body["days"]
    assert today["orders"] == 2 and today["revenue"] == 44100
    assert (await api.get(path, shop.employee)).status_code == 403
    assert (await api.get(path, shop.other_manager)).status_code == 403
    assert (await api.get(path, admin)).status_code == 200
    long_ago = (await api.get(path, shop.manager, params={"from": "2001-01-01", "to": "2001-01-31"})).json()
    assert (long_ago["orders"], long_ago["days"], long_ago["average_order"]) == (0, [], 0)
    tomorrow = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    backwards = await api.get(path, shop.manager, params={"from": tomorrow, "to": "2001-01-01"})
    assert backwards.status_code == 422
