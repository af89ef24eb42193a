"""Inventory: made-to-order products take their ingredients with the order (never below zero, of many
orders for the last of an ingredient exactly as many succeed as it covers), every change is in the
ledger, cancelling gives it back, and `stock_low` reaches the shop's room once per fall."""

from __future__ import annotations

import asyncio

from tests.commerce.conftest import Shop, product_body
from tests.helpers import Api, User, connect, settle

MILK = {"name": "Milk", "max_choices": 1, "options": [{"name": "Oat", "price_delta": 3000}]}


async def _item(api: Api, shop: Shop, name: str, quantity: int, threshold: int = 0, unit: str = "ml") -> dict:
    body = {"name": name, "unit": unit, "quantity": quantity, "reorder_threshold": threshold, "supplier": "Dairy Co"}
    return await api.created(f"/v1/shops/{shop.id}/inventory", body, shop.manager)


async def _recipe(api: Api, product: dict, lines: list[dict], user: User) -> dict:
    answer = await api.client.put(f"/v1/products/{product['id']}/recipe", json={"lines": lines}, headers=user.headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def _counter(api: Api, shop: Shop, product: dict, quantity: int = 1, option_ids: list[str] | None = None):
    line = {"product_id": product["id"], "quantity": quantity, "option_ids": option_ids or []}
    return await api.post("/v1/orders", {"shop_id": shop.id, "items": [line]}, shop.employee)


async def test_an_order_takes_its_ingredients_and_a_cancel_gives_them_back(api: Api, server, shop: Shop) -> None:
    milk = await _item(api, shop, "Milk", 1000, threshold=300)
    oat = await _item(api, shop, "Oat milk", 500)
    beans = await _item(api, shop, "Coffee beans", 200, unit="g")
    latte = await api.created(
        "/v1/products", product_body(shop.id, "Latte", 16000, modifier_groups=[MILK]), shop.manager
    )
    oat_option = latte["modifier_groups"][0]["options"][0]["id"]
    recipe = await _recipe(
        api,
        latte,
        [
            {"item_id": milk["id"], "amount": 200},
            {"item_id": beans["id"], "amount": 18},
            {"item_id": oat["id"], "amount": 200, "option_id": oat_option},
        ],
        shop.manager,
    )
    assert {(r["item_name"], r["amount"]) for r in recipe["items"]} == {
        ("Milk", 200),
        ("Coffee beans", 18),
        ("Oat milk", 200),
    }
    room = await connect(server.url, shop.manager.access_token)
    try:
        assert (await room.join("shop", shop.id))["ok"] is True
        plain = await _counter(api, shop, latte, 2)
        assert plain.status_code == 201, plain.text
        with_oat = await _counter(api, shop, latte, 1, [oat_option])
        assert with_oat.status_code == 201
        stock = {i["name"]: i for i in (await api.get(f"/v1/shops/{shop.id}/inventory", shop.employee)).json()["items"]}
        assert (stock["Milk"]["quantity"], stock["Oat milk"]["quantity"], stock["Coffee beans"]["quantity"]) == (
            400,
            300,
            146,
        )
        assert stock["Milk"]["low"] is False
        await _counter(api, shop, latte, 1)  # milk 400 -> 200: below 300
        (low,) = await room.wait_for("stock_low")
        assert low["data"]["name"] == "Milk" and low["data"]["quantity"] == 200
        await _counter(api, shop, latte, 1)  # 200 -> 0: still low, no second alert
        await settle()
        assert len(room.of("stock_low")) == 1
        short = await _counter(api, shop, latte, 1)
        assert short.status_code == 409
        (missing,) = short.json()["error"]["details"]["ingredients"]
        assert (missing["name"], missing["wanted"], missing["left"], missing["product_ids"]) == (
            "Milk",
            200,
            0,
            [latte["id"]],
        )

        cancelled = await api.post(f"/v1/orders/{plain.json()['id']}/status", {"to": "cancelled"}, shop.employee)
        assert cancelled.status_code == 200
        restocked = await api.post(
            f"/v1/shops/{shop.id}/inventory/{milk['id']}/moves", {"kind": "restock", "amount": 1000}, shop.employee
        )
        assert restocked.json()["quantity"] == 1400 and restocked.json()["low"] is False
        for _ in range(6):  # 1400 -> 200
            assert (await _counter(api, shop, latte, 1)).status_code == 201
        await room.wait_for("stock_low", count=2)
    finally:
        await room.close()
    ledger = (
        await api.get(f"/v1/shops/{shop.id}/inventory/{milk['id']}/moves", shop.manager, params={"limit": 50})
    ).json()
    kinds = [m["kind"] for m in reversed(ledger["items"])]
    assert kinds[:6] == ["restock", "sale", "sale", "sale", "sale", "return"]
    assert ledger["items"][0]["quantity_after"] == 200


async def test_the_last_of_an_ingredient_goes_to_as_many_orders_as_it_covers(api: Api, shop: Shop) -> None:
    syrup = await _item(api, shop, "Syrup", 50)
    shake = await api.created("/v1/products", product_body(shop.id, "Shake", 12000), shop.manager)
    await _recipe(api, shake, [{"item_id": syrup["id"], "amount": 10}], shop.manager)
    answers = await asyncio.gather(*(_counter(api, shop, shake) for _ in range(20)))
    codes = sorted(a.status_code for a in answers)
    assert codes.count(201) == 5 and codes.count(409) == 15, codes
    left = (await api.get(f"/v1/shops/{shop.id}/inventory", shop.manager)).json()["items"][0]
    assert left["quantity"] == 0


async def test_inventory_is_the_shops_staff_and_moves_are_checked(api: Api, shop: Shop) -> None:
    sugar = await _item(api, shop, "Sugar", 500, unit="g")
    path = f"/v1/shops/{shop.id}/inventory"
    assert (await api.get(path, shop.customer)).status_code == 403
    assert (await api.get(path, shop.other_manager)).status_code == 403
    assert (await api.post(path, {"name": "Salt", "unit": "g"}, shop.employee)).status_code == 403
    moves = f"{path}/{sugar['id']}/moves"
    waste = await api.post(moves, {"kind": "waste", "amount": 600}, shop.employee)
    assert waste.status_code == 409 and waste.json()["error"]["details"] == {"quantity": 500}
    assert (await api.post(moves, {"kind": "correction", "amount": 480}, shop.employee)).status_code == 403
    counted = await api.post(moves, {"kind": "correction", "amount": 480, "reason": "weekly count"}, shop.manager)
    assert counted.json()["quantity"] == 480
    last = (await api.get(moves, shop.employee, params={"limit": 1})).json()
    assert (last["items"][0]["change"], last["items"][0]["reason"]) == (-20, "weekly count")
    assert (await api.get(moves, shop.employee, params={"cursor": last["next_cursor"]})).json()["items"][0][
        "kind"
    ] == "restock"
    for bad in ({"kind": "steal", "amount": 1}, {"kind": "restock", "amount": -5}, {"kind": "restock"}):
        assert (await api.post(moves, bad, shop.manager)).status_code == 422
    assert (await api.post(path, {"name": "Sugar", "unit": "g"}, shop.manager)).status_code == 409
    assert (await api.post(path, {"name": "Flour", "unit": "kg"}, shop.manager)).status_code == 422
    theirs = await api.created(
        f"/v1/shops/{shop.other_id}/inventory", {"name": "Oil", "unit": "ml"}, shop.other_manager
    )
    cake = await api.created("/v1/products", product_body(shop.id, "Cake", 9000), shop.manager)
    foreign = await api.client.put(
        f"/v1/products/{cake['id']}/recipe",
        json={"lines": [{"item_id": theirs["id"], "amount": 5}]},
        headers=shop.manager.headers,
    )
    assert foreign.status_code == 422 and foreign.json()["error"]["details"][0]["field"] == "lines.0.item_id"
    assert (
        await api.client.put(f"/v1/products/{cake['id']}/recipe", json={"lines": []}, headers=shop.employee.headers)
    ).status_code == 403
