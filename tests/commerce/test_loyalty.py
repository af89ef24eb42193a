"""Loyalty: points earned when an order is paid (a configured share of its total), spent on a later order
within the configured limit and the balance, given back and taken back when an order is cancelled; the
ledger explains every balance, and two orders spending the same points at once cannot both have them."""

from __future__ import annotations

import asyncio

from tests.commerce.conftest import Shop, product_body
from tests.helpers import Api, User


async def _paid_order(api: Api, shop: Shop, customer: User, product: dict, quantity: int) -> dict:
    line = {"product_id": product["id"], "quantity": quantity}
    order = await api.created(
        "/v1/orders", {"shop_id": shop.id, "items": [line], "customer_id": customer.id}, shop.employee
    )
    paid = await api.post(
        f"/v1/orders/{order['id']}/payments", {"method": "card", "amount": order["total"]}, shop.employee
    )
    assert paid.status_code == 201, paid.text
    return (await api.get(f"/v1/orders/{order['id']}", customer)).json()


async def _balance(api: Api, shop: Shop, user: User) -> dict:
    answer = await api.get("/v1/loyalty", user, params={"shop_id": shop.id})
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_points_are_earned_spent_and_explained(api: Api, shop: Shop) -> None:
    tea = await api.created("/v1/products", product_body(shop.id, "Loyal tea", 100000), shop.manager)
    first = await _paid_order(api, shop, shop.customer, tea, 2)
    # 2 x 100000 + 5 % tax = 210000; 1 % of it comes back
    assert (first["total"], first["points_earned"]) == (210000, 2100)
    assert (await _balance(api, shop, shop.customer))["balance"] == 2100

    cart = {"product_id": tea["id"], "quantity": 1}
    assert (await api.post("/v1/cart/items", cart, shop.customer)).status_code == 200
    greedy = await api.post("/v1/orders", {"shop_id": shop.id, "redeem_points": 60000}, shop.customer)
    assert greedy.status_code == 422 and greedy.json()["error"]["code"] == "too_many_points", "at most half"
    broke = await api.post("/v1/orders", {"shop_id": shop.id, "redeem_points": 3000}, shop.customer)
    assert broke.status_code == 409 and broke.json()["error"]["details"] == {"balance": 2100}
    spent = await api.post("/v1/orders", {"shop_id": shop.id, "redeem_points": 2000}, shop.customer)
    assert spent.status_code == 201, spent.text
    order = spent.json()
    # 100000 - 2000 points = 98000, + 5 % tax = 4900
    assert (order["points_redeemed"], order["tax"], order["total"]) == (2000, 4900, 102900)
    assert (await _balance(api, shop, shop.customer))["balance"] == 100

    cancelled = await api.post(f"/v1/orders/{order['id']}/status", {"to": "cancelled"}, shop.customer)
    assert cancelled.status_code == 200
    account = await _balance(api, shop, shop.customer)
    assert account["balance"] == 2100
    assert [(m["kind"], m["change"], m["balance_after"]) for m in reversed(account["items"])] == [
        ("earn", 2100, 2100),
        ("redeem", -2000, 100),
        ("refund", 2000, 2100),
    ]
    assert sum(m["change"] for m in account["items"]) == account["balance"], "the ledger explains the balance"
    everywhere = (await api.get("/v1/loyalty", shop.customer)).json()
    assert everywhere["accounts"] == [{"shop_id": shop.id, "balance": 2100}]
    assert (await _balance(api, shop, shop.other_customer))["balance"] == 0, "points are their owner's"

    refund = await api.post(f"/v1/orders/{first['id']}/status", {"to": "cancelled"}, shop.manager)
    assert refund.status_code == 200
    assert (await _balance(api, shop, shop.customer))["balance"] == 0, "what a cancelled order earned goes back"


async def test_two_orders_cannot_spend_the_same_points(api: Api, shop: Shop) -> None:
    cake = await api.created("/v1/products", product_body(shop.id, "Points cake", 500000), shop.manager)
    await _paid_order(api, shop, shop.customer, cake, 1)  # 525000 paid: 5250 points
    line = {"product_id": cake["id"], "quantity": 1}
    body = {"shop_id": shop.id, "items": [line], "customer_id": shop.customer.id, "redeem_points": 4000}
    answers = await asyncio.gather(*(api.post("/v1/orders", body, shop.employee) for _ in range(4)))
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409]
    assert (await _balance(api, shop, shop.customer))["balance"] == 1250
    walk_in = await api.post("/v1/orders", {**body, "customer_id": None}, shop.employee)
    assert walk_in.status_code == 422 and walk_in.json()["error"]["details"][0]["field"] == "redeem_points"


async def test_a_shop_with_loyalty_switched_off_neither_gives_nor_takes_points(
    api: Api, admin: User, shop: Shop
) -> None:
    bread = await api.created("/v1/products", product_body(shop.id, "Flag bread", 100000), shop.manager)
    await _paid_order(api, shop, shop.customer, bread, 1)  # 105000 paid: 1050 points
    off = await api.client.patch(
        "/v1/config", json={"shop_id": shop.id, "loyalty_enabled": False}, headers=admin.headers
    )
    assert off.status_code == 200 and off.json()["loyalty_enabled"] is False, off.text
    try:
        unearned = await _paid_order(api, shop, shop.customer, bread, 1)
        assert unearned["points_earned"] == 0
        line = {"product_id": bread["id"], "quantity": 1}
        body = {"shop_id": shop.id, "items": [line], "customer_id": shop.customer.id, "redeem_points": 500}
        refused = await api.post("/v1/orders", body, shop.employee)
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "loyalty_off"
        assert (await _balance(api, shop, shop.customer))["balance"] == 1050, "points kept, for when it is back"
        elsewhere = (await api.get("/v1/config", shop.customer, params={"shop_id": shop.other_id})).json()
        assert elsewhere["loyalty_enabled"] is True, "an override is one shop's"
    finally:
        await api.client.patch("/v1/config", json={"shop_id": shop.id, "loyalty_enabled": None}, headers=admin.headers)
    back = await api.post("/v1/orders", body, shop.employee)
    assert back.status_code == 201 and back.json()["points_redeemed"] == 500
