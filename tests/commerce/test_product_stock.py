"""A counted product's stock is a ledger: orders take units and cancellations give them back, staff restock
and record waste, managers correct after a count, and the rows always add up to what is on hand. A
made-to-order product is in stock while its recipe's ingredients are there."""

from __future__ import annotations

from tests.commerce.conftest import Shop, product_body
from tests.helpers import Api, User


async def _ledger(api: Api, product: dict, user: User) -> list[tuple[str, int, int]]:
    answer = await api.get(f"/v1/products/{product['id']}/stock-moves", user)
    assert answer.status_code == 200, answer.text
    return [(m["kind"], m["change"], m["stock_after"]) for m in reversed(answer.json()["items"])]


async def _move(api: Api, product: dict, user: User, kind: str, amount: int, reason: str | None = None):
    body = {"kind": kind, "amount": amount, **({"reason": reason} if reason else {})}
    return await api.post(f"/v1/products/{product['id']}/stock-moves", body, user)


async def test_every_change_of_a_products_stock_is_in_its_ledger(api: Api, shop: Shop) -> None:
    watch = await api.created("/v1/products", product_body(shop.id, "Ledger watch", 500000, stock=5), shop.manager)
    line = {"product_id": watch["id"], "quantity": 2}
    order = await api.created("/v1/orders", {"shop_id": shop.id, "items": [line]}, shop.employee)
    cancelled = await api.post(f"/v1/orders/{order['id']}/status", {"to": "cancelled"}, shop.employee)
    assert cancelled.status_code == 200, cancelled.text
    restocked = await _move(api, watch, shop.employee, "restock", 10, "delivery 42")
    assert restocked.status_code == 200 and restocked.json()["stock"] == 15, restocked.text
    assert (await _move(api, watch, shop.employee, "waste", 3, "dropped")).json()["stock"] == 12
    too_much = await _move(api, watch, shop.employee, "waste", 100)
    assert too_much.status_code == 409 and too_much.json()["error"]["details"] == {"stock": 12}
    assert (await _move(api, watch, shop.employee, "correction", 7)).status_code == 403, "a count is a manager's"
    assert (await _move(api, watch, shop.manager, "correction", 7, "counted")).json()["stock"] == 7
    patched = await api.client.patch(f"/v1/products/{watch['id']}", json={"stock": 9}, headers=shop.manager.headers)
    assert patched.status_code == 200 and patched.json()["stock"] == 9

    ledger = await _ledger(api, watch, shop.employee)
    assert ledger == [
        ("correction", 5, 5),
        ("sale", -2, 3),
        ("return", 2, 5),
        ("restock", 10, 15),
        ("waste", -3, 12),
        ("correction", -5, 7),
        ("correction", 2, 9),
    ]
    assert sum(change for _, change, _ in ledger) == 9, "the ledger explains the stock"
    moves = (await api.get(f"/v1/products/{watch['id']}/stock-moves", shop.manager)).json()["items"]
    assert moves[-2]["order_id"] == order["id"] and moves[-3]["order_id"] == order["id"]
    assert moves[2]["reason"] == "dropped" and moves[2]["actor_id"] == shop.employee.id

    assert (await api.get(f"/v1/products/{watch['id']}/stock-moves", shop.customer)).status_code == 403
    assert (await _move(api, watch, shop.other_manager, "restock", 1)).status_code == 403
    assert (await _move(api, watch, shop.employee, "restock", -1)).status_code == 422
    assert (await _move(api, watch, shop.employee, "steal", 1)).status_code == 422
    paged = await api.get(f"/v1/products/{watch['id']}/stock-moves", shop.manager, params={"limit": 4})
    rest = await api.get(
        f"/v1/products/{watch['id']}/stock-moves", shop.manager, params={"cursor": paged.json()["next_cursor"]}
    )
    assert len(paged.json()["items"]) == 4 and len(rest.json()["items"]) == 3


async def test_a_made_to_order_product_is_in_stock_while_its_ingredients_are(api: Api, shop: Shop) -> None:
    milk = await api.created(
        f"/v1/shops/{shop.id}/inventory", {"name": "Stock milk", "unit": "ml", "quantity": 150}, shop.manager
    )
    shake = await api.created("/v1/products", product_body(shop.id, "Shake", 12000), shop.manager)
    recipe = {"lines": [{"item_id": milk["id"], "amount": 200}]}
    set_recipe = await api.client.put(f"/v1/products/{shake['id']}/recipe", json=recipe, headers=shop.manager.headers)
    assert set_recipe.status_code == 200, set_recipe.text

    async def seen() -> tuple[bool, list[str], list[str]]:
        product = (await api.get(f"/v1/products/{shake['id']}", shop.customer)).json()
        listed = await api.get("/v1/products", shop.customer, params={"shop_id": shop.id, "in_stock": "true"})
        unlisted = await api.get("/v1/products", shop.customer, params={"shop_id": shop.id, "in_stock": "false"})
        return (
            product["in_stock"],
            [p["id"] for p in listed.json()["items"]],
            [p["id"] for p in unlisted.json()["items"]],
        )

    assert await seen() == (False, [], [shake["id"]])
    added = await api.post("/v1/cart/items", {"product_id": shake["id"], "quantity": 1}, shop.customer)
    assert added.status_code == 200, added.text
    cart = (await api.get("/v1/cart", shop.customer, params={"shop_id": shop.id})).json()
    assert cart["items"][0]["problem"] == "out_of_stock" and cart["orderable"] is False
    move = {"kind": "restock", "amount": 100}
    assert (await api.post(f"/v1/shops/{shop.id}/inventory/{milk['id']}/moves", move, shop.employee)).status_code == 200
    assert await seen() == (True, [shake["id"]], [])
    made = await api.get(f"/v1/products/{shake['id']}/stock-moves", shop.manager)
    assert made.status_code == 200 and made.json()["items"] == []
    counted_only = await _move(api, shake, shop.employee, "restock", 5)
    assert counted_only.status_code == 409 and counted_only.json()["error"]["code"] == "made_to_order"
