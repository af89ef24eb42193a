"""Delivery orders: the order keeps the address it goes to as it was when ordered (saved, default or given),
goes out by a carrier with a tracking number once paid, and each move reaches the customer live; the
kitchen's moves are not a delivery's, a tracking number needs a paid order, and a return gives the stock
back."""

from __future__ import annotations

from tests.commerce.conftest import Shop, product_body
from tests.helpers import Api, User, connect

HOME = {
    "label": "Home",
    "name": "Asha Rao",
    "line1": "12 Lake View Road",
    "city": "Bengaluru",
    "postal_code": "560001",
    "country": "IN",
    "phone": "+919800000001",
}


async def _stocked(api: Api, shop: Shop, stock: int = 5) -> dict:
    return await api.created("/v1/products", product_body(shop.id, "Wall Clock", 150000, stock=stock), shop.manager)


async def _delivery(api: Api, shop: Shop, customer: User, product: dict, **extra: object):
    added = await api.post("/v1/cart/items", {"product_id": product["id"], "quantity": 1}, customer)
    assert added.status_code == 200, added.text
    return await api.post("/v1/orders", {"shop_id": shop.id, "fulfilment": "delivery", **extra}, customer)


async def _pay(api: Api, shop: Shop, order: dict) -> None:
    paid = await api.post(
        f"/v1/orders/{order['id']}/payments", {"method": "card", "amount": order["total"]}, shop.employee
    )
    assert paid.status_code == 201, paid.text


async def test_a_delivery_from_order_to_door_followed_live(api: Api, server, shop: Shop) -> None:
    clock = await _stocked(api, shop)
    saved = await api.created("/v1/addresses", HOME, shop.customer)
    placed = await _delivery(api, shop, shop.customer, clock)
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert order["fulfilment"] == "delivery" and order["shipping_address"]["line1"] == "12 Lake View Road"
    moved = await api.client.patch(
        f"/v1/addresses/{saved['id']}", json={"line1": "99 New Street"}, headers=shop.customer.headers
    )
    assert moved.status_code == 200
    kept = (await api.get(f"/v1/orders/{order['id']}", shop.customer)).json()
    assert kept["shipping_address"]["line1"] == "12 Lake View Road", "the order keeps the address of its time"

    early = await api.post(
        f"/v1/orders/{order['id']}/status",
        {"to": "shipped", "carrier": "BlueDart", "tracking_number": "BD1"},
        shop.employee,
    )
    assert early.status_code == 409 and early.json()["error"]["code"] == "invalid_move", (
        "a tracking number on an unpaid order"
    )
    await _pay(api, shop, order)
    customer = await connect(server.url, shop.customer.access_token)
    try:
        kitchen = await api.post(f"/v1/orders/{order['id']}/status", {"to": "preparing"}, shop.employee)
        assert kitchen.status_code == 409 and kitchen.json()["error"]["details"]["allowed"] == ["cancelled", "shipped"]
        bare = await api.post(f"/v1/orders/{order['id']}/status", {"to": "shipped"}, shop.employee)
        assert bare.status_code == 422 and bare.json()["error"]["code"] == "shipment_required"
        shipped = await api.post(
            f"/v1/orders/{order['id']}/status",
            {"to": "shipped", "carrier": "BlueDart", "tracking_number": "BD-7788"},
            shop.employee,
        )
        assert shipped.status_code == 200, shipped.text
        assert (shipped.json()["carrier"], shipped.json()["tracking_number"]) == ("BlueDart", "BD-7788")
        by_customer = await api.post(f"/v1/orders/{order['id']}/status", {"to": "delivered"}, shop.customer)
        assert by_customer.status_code == 403
        delivered = await api.post(f"/v1/orders/{order['id']}/status", {"to": "delivered"}, shop.employee)
        assert delivered.status_code == 200
        heard = await customer.wait_for("order_status_changed", 2)
        assert [(e["data"]["status"], e["data"]["tracking_number"]) for e in heard] == [
            ("shipped", "BD-7788"),
            ("delivered", "BD-7788"),
        ]
    finally:
        await customer.close()
    review = await api.post(f"/v1/products/{clock['id']}/reviews", {"rating": 5}, shop.customer)
    assert review.status_code == 201, "a delivered product was received"


async def test_a_delivery_needs_an_address_of_its_customer(api: Api, shop: Shop) -> None:
    clock = await _stocked(api, shop)
    nowhere = await _delivery(api, shop, shop.customer, clock)
    assert nowhere.status_code == 422 and nowhere.json()["error"]["code"] == "address_required"
    theirs = await api.created("/v1/addresses", HOME, shop.other_customer)
    stolen = await api.post(
        "/v1/orders", {"shop_id": shop.id, "fulfilment": "delivery", "address_id": theirs["id"]}, shop.customer
    )
    assert stolen.status_code == 422 and stolen.json()["error"]["code"] == "unknown_address"
    inline = {key: HOME[key] for key in ("name", "line1", "city", "postal_code", "country")}
    both = await api.post(
        "/v1/orders",
        {"shop_id": shop.id, "fulfilment": "delivery", "address_id": theirs["id"], "address": inline},
        shop.customer,
    )
    assert both.status_code == 422 and both.json()["error"]["code"] == "two_addresses"
    pickup = await api.post("/v1/orders", {"shop_id": shop.id, "address": inline}, shop.customer)
    assert pickup.status_code == 422 and pickup.json()["error"]["code"] == "not_delivery"
    for bad in ({**inline, "country": "India"}, {**inline, "line1": ""}, {"name": "No street"}):
        response = await api.post(
            "/v1/orders", {"shop_id": shop.id, "fulfilment": "delivery", "address": bad}, shop.customer
        )
        assert response.status_code == 422, (bad, response.text)
    given = await api.post(
        "/v1/orders", {"shop_id": shop.id, "fulfilment": "delivery", "address": inline}, shop.customer
    )
    assert given.status_code == 201 and given.json()["shipping_address"]["postal_code"] == "560001", given.text
    assert (await api.get(f"/v1/products/{clock['id']}", shop.customer)).json()["stock"] == 4, "one order was made"


async def test_a_returned_delivery_gives_its_stock_back(api: Api, shop: Shop) -> None:
    clock = await _stocked(api, shop, stock=1)
    await api.created("/v1/addresses", HOME, shop.customer)
    order = (await _delivery(api, shop, shop.customer, clock)).json()
    assert (await api.get(f"/v1/products/{clock['id']}", shop.customer)).json()["stock"] == 0
    await _pay(api, shop, order)
    path = f"/v1/orders/{order['id']}/status"
    assert (
        await api.post(path, {"to": "shipped", "carrier": "DTDC", "tracking_number": "D1"}, shop.employee)
    ).status_code == 200
    odd = await api.post(path, {"to": "delivered", "carrier": "DTDC", "tracking_number": "D2"}, shop.employee)
    assert odd.status_code == 422 and odd.json()["error"]["code"] == "not_shipping"
    returned = await api.post(path, {"to": "returned", "note": "Refused at the door"}, shop.employee)
    assert returned.status_code == 200 and returned.json()["status"] == "returned"
    assert (await api.get(f"/v1/products/{clock['id']}", shop.customer)).json()["stock"] == 1
    listed = await api.get("/v1/orders", shop.employee, params={"shop_id": shop.id, "status": "returned"})
    assert [o["id"] for o in listed.json()["items"]] == [order["id"]]
