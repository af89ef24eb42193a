"""Orders: priced by the server (options, the mall's offer, the configured tax), stock taken in the same
transaction and never below zero, followed live by the shop and the customer alone, paid at the counter,
moved through the kitchen, cancelled with the stock given back."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

from tests.commerce.conftest import Shop, product_body
from tests.helpers import Api, User, connect, settle

SIZE = {
    "name": "Size",
    "min_choices": 1,
    "max_choices": 1,
    "options": [{"name": "S"}, {"name": "L", "price_delta": 5000}],
}


async def _product(api: Api, shop: Shop, price: int, **extra: object) -> dict:
    return await api.created(
        "/v1/products", product_body(shop.id, f"Item {uuid.uuid4().hex[:6]}", price, **extra), shop.manager
    )


async def _cart(api: Api, user: User, product: dict, quantity: int = 1, options: list[str] | None = None) -> None:
    ids = [o["id"] for g in product["modifier_groups"] for o in g["options"] if o["name"] in (options or [])]
    answer = await api.post(
        "/v1/cart/items", {"product_id": product["id"], "option_ids": ids, "quantity": quantity}, user
    )
    assert answer.status_code == 200, answer.text


async def _order(api: Api, shop: Shop, user: User, **extra: object):
    return await api.post("/v1/orders", {"shop_id": shop.id, **extra}, user)


async def _move(api: Api, order: dict, to: str, user: User):
    return await api.post(f"/v1/orders/{order['id']}/status", {"to": to}, user)


async def test_an_order_from_cart_to_completed_followed_live(api: Api, server, admin: User, shop: Shop) -> None:
    latte = await _product(api, shop, 16000, modifier_groups=[SIZE])
    bun = await _product(api, shop, 9000, stock=5)
    start = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    await api.created(
        "/v1/offers",
        {
            "mall_id": shop.mall_id,
            "title": "Ten off",
            "discount_percent": 10,
            "starts_at": start.isoformat(),
            "ends_at": (start + dt.timedelta(days=1)).isoformat(),
            "shop_ids": [shop.id],
        },
        admin,
    )
    await _cart(api, shop.customer, latte, 2, ["L"])
    await _cart(api, shop.customer, bun, 3)
    counter = await connect(server.url, shop.employee.access_token)
    phone = await connect(server.url, shop.customer.access_token)
    stranger = await connect(server.url, shop.other_customer.access_token)
    try:
        assert (await counter.join("shop", shop.id))["ok"] is True
        placed = await _order(api, shop, shop.customer)
        assert placed.status_code == 201, placed.text
        order = placed.json()
        # 2 x (16000 + 5000) + 3 x 9000 = 69000; 10 % off = 6900; 5 % tax on 62100 = 3105 (rounded half up)
        assert (order["subtotal"], order["discount"], order["tax"], order["total"]) == (69000, 6900, 3105, 65205)
        assert order["status"] == "pending" and order["channel"] == "online" and order["currency"] == "INR"
        assert [(i["quantity"], i["unit_price"], [o["name"] for o in i["options"]]) for i in order["items"]] == [
            (2, 21000, ["L"]),
            (3, 9000, []),
        ]
        assert (await api.get(f"/v1/products/{bun['id']}", shop.customer)).json()["stock"] == 2
        assert (await api.get("/v1/cart", shop.customer, params={"shop_id": shop.id})).json()["items"] == []
        (created,) = await counter.wait_for("order_created")
        assert created["data"]["id"] == order["id"]
        await phone.wait_for("order_created")

        paid = await api.post(f"/v1/orders/{order['id']}/payments", {"method": "cash", "amount": 65205}, shop.employee)
        assert paid.status_code == 201, paid.text
        await phone.wait_for("payment_received")
        for to in ("preparing", "ready", "completed"):
            answer = await _move(api, order, to, shop.employee)
            assert answer.status_code == 200 and answer.json()["status"] == to
        moves = await phone.wait_for("order_status_changed", count=4)
        assert [m["data"]["status"] for m in moves] == ["paid", "preparing", "ready", "completed"]
        await settle()
        assert stranger.events == []
    finally:
        for listener in (counter, phone, stranger):
            await listener.close()
    await api.client.patch(f"/v1/products/{latte['id']}", json={"price": 99999}, headers=shop.manager.headers)
    kept = (await api.get(f"/v1/orders/{order['id']}", shop.customer)).json()
    assert kept["items"][0]["unit_price"] == 21000 and kept["total"] == 65205, "an order keeps its prices"


async def test_fifty_customers_and_ten_units_ten_orders(api: Api, shop: Shop) -> None:
    last = await _product(api, shop, 5000, stock=10)
    customers = await asyncio.gather(*(api.signup(f"Buyer {i}") for i in range(50)))
    await asyncio.gather(*(_cart(api, c, last) for c in customers))
    answers = await asyncio.gather(*(_order(api, shop, c) for c in customers))
    codes = sorted(a.status_code for a in answers)
    assert codes.count(201) == 10 and codes.count(409) == 40, codes
    refused = next(a for a in answers if a.status_code == 409).json()["error"]
    assert refused["code"] == "out_of_stock" and refused["details"]["items"][0]["left"] == 0
    assert (await api.get(f"/v1/products/{last['id']}", shop.manager)).json()["stock"] == 0
    kept_cart = (await api.get("/v1/cart", customers[0], params={"shop_id": shop.id})).json()
    ordered = any(a.status_code == 201 for a in answers[:1])
    assert bool(kept_cart["items"]) != ordered, "a failed order leaves the cart as it was"


async def test_a_retried_order_is_one_order_and_one_stock_move(api: Api, shop: Shop) -> None:
    scone = await _product(api, shop, 7000, stock=5)
    await _cart(api, shop.customer, scone, 2)
    key = {"idempotency-key": str(uuid.uuid4())}
    answers = await asyncio.gather(
        *(api.post("/v1/orders", {"shop_id": shop.id}, shop.customer, headers=key) for _ in range(5))
    )
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 1
    assert (await api.get(f"/v1/products/{scone['id']}", shop.manager)).json()["stock"] == 3


async def test_cancelling_gives_the_stock_back_and_moves_are_checked(api: Api, shop: Shop) -> None:
    watch = await _product(api, shop, 250000, stock=2)
    await _cart(api, shop.customer, watch, 2)
    order = (await _order(api, shop, shop.customer)).json()
    assert (await _move(api, order, "preparing", shop.employee)).status_code == 409, "not before it is paid"
    assert (await _move(api, order, "paid", shop.employee)).status_code == 409, "paid only by a payment"
    assert (await _move(api, order, "cancelled", shop.other_customer)).status_code == 404
    cancelled = await _move(api, order, "cancelled", shop.customer)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert (await api.get(f"/v1/products/{watch['id']}", shop.manager)).json()["stock"] == 2
    assert (await _move(api, order, "cancelled", shop.customer)).status_code == 409

    await _cart(api, shop.customer, watch, 1)
    second = (await _order(api, shop, shop.customer)).json()
    await api.post(f"/v1/orders/{second['id']}/payments", {"method": "card", "amount": second["total"]}, shop.manager)
    assert (await _move(api, second, "cancelled", shop.customer)).status_code == 403, "paid: only the shop cancels"
    assert (await _move(api, second, "preparing", shop.customer)).status_code == 403
    assert (await _move(api, second, "cancelled", shop.manager)).status_code == 200
    assert (await api.get(f"/v1/products/{watch['id']}", shop.manager)).json()["stock"] == 2


async def test_the_counter_rings_up_a_walk_in(api: Api, shop: Shop) -> None:
    tea = await _product(api, shop, 4000)
    items = [{"product_id": tea["id"], "quantity": 3}]
    walk_in = await _order(api, shop, shop.employee, items=items)
    assert walk_in.status_code == 201, walk_in.text
    assert (walk_in.json()["channel"], walk_in.json()["customer_id"]) == ("counter", None)
    for_customer = await _order(api, shop, shop.employee, items=items, customer_id=shop.customer.id)
    assert for_customer.json()["customer_id"] == shop.customer.id
    mine = await api.get("/v1/orders", shop.customer)
    assert for_customer.json()["id"] in [o["id"] for o in mine.json()["items"]]
    assert (await _order(api, shop, shop.customer, items=items)).status_code == 403
    assert (await _order(api, shop, shop.other_manager, items=items)).status_code == 403
    ghost = await _order(api, shop, shop.employee, items=items, customer_id=str(uuid.uuid4()))
    assert ghost.status_code == 422 and ghost.json()["error"]["details"][0]["field"] == "customer_id"
    staff_view = await api.get("/v1/orders", shop.manager, params={"shop_id": shop.id, "status": "pending"})
    assert {walk_in.json()["id"], for_customer.json()["id"]} <= {o["id"] for o in staff_view.json()["items"]}
    outsider_view = await api.get("/v1/orders", shop.other_customer, params={"shop_id": shop.id})
    assert outsider_view.json()["items"] == [], "someone else sees only their own orders there"
    assert (await api.get(f"/v1/orders/{walk_in.json()['id']}", shop.other_customer)).status_code == 404


async def test_prices_come_from_the_server_and_bad_orders_are_clear(api: Api, admin: User, shop: Shop) -> None:
    tea = await _product(api, shop, 4000)
    other_shop_item = await api.created("/v1/products", product_body(shop.other_id, "Strap", 1000), shop.other_manager)
    line = {"product_id": tea["id"], "quantity": 1}
    priced = await _order(api, shop, shop.employee, items=[{**line, "unit_price": 1}])
    assert priced.status_code == 422 and priced.json()["error"]["details"][0]["field"] == "items.0.unit_price"
    assert (await _order(api, shop, shop.employee, items=[{**line, "quantity": 0}])).status_code == 422
    assert (await _order(api, shop, shop.employee, items=[{**line, "quantity": -2}])).status_code == 422
    assert (await _order(api, shop, shop.employee, items=[])).status_code == 422
    foreign = await _order(api, shop, shop.employee, items=[{"product_id": other_shop_item["id"]}])
    assert foreign.status_code == 422 and foreign.json()["error"]["details"][0]["field"] == "items.0.product_id"
    empty = await _order(api, shop, shop.other_customer)
    assert empty.status_code == 409 and empty.json()["error"]["code"] == "cart_empty"

    override = await api.client.patch(
        "/v1/config", json={"shop_id": shop.id, "tax_rate_bp": 1800}, headers=admin.headers
    )
    assert override.status_code == 200 and override.json()["tax_rate_bp"] == 1800
    taxed = (await _order(api, shop, shop.employee, items=[line])).json()
    assert (taxed["tax_rate_bp"], taxed["tax"], taxed["total"]) == (1800, 720, 4720)
    assert (
        await api.client.patch("/v1/config", json={"tax_rate_bp": 0}, headers=shop.manager.headers)
    ).status_code == 403
    dropped = await api.client.patch(
        "/v1/config", json={"shop_id": shop.id, "tax_rate_bp": None}, headers=admin.headers
    )
    overall = (await api.get("/v1/config", shop.customer)).json()
    assert dropped.json()["tax_rate_bp"] == overall["tax_rate_bp"]
    assert (overall["currency"], overall["opening_hours"], overall["open_now"]) == (None, None, None)

    pay_path = f"/v1/orders/{taxed['id']}/payments"
    short = await api.post(pay_path, {"method": "cash", "amount": 4000}, shop.employee)
    assert short.status_code == 422 and short.json()["error"]["code"] == "amount_mismatch"
    assert (await api.post(pay_path, {"method": "cheque", "amount": 4720}, shop.employee)).status_code == 422
    assert (await api.post(pay_path, {"method": "cash", "amount": 4720}, shop.customer)).status_code == 404
    assert (await api.post(pay_path, {"method": "cash", "amount": 4720}, shop.employee)).status_code == 201
    again = await api.post(pay_path, {"method": "cash", "amount": 4720}, shop.employee)
    assert again.status_code == 409 and again.json()["error"]["code"] == "not_payable"
