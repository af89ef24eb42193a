"""The cart: lines with their choices, priced as the catalogue is now; a line the shop stopped selling
or ran out of says so; choices a product does not offer are 422 naming the field."""

from __future__ import annotations

import uuid

from tests.commerce.conftest import Shop, product_body
from tests.helpers import Api, User

SIZE = {
    "name": "Size",
    "min_choices": 1,
    "max_choices": 1,
    "options": [{"name": "S"}, {"name": "L", "price_delta": 4000}],
}
EXTRAS = {
    "name": "Extras",
    "max_choices": 2,
    "options": [{"name": "Shot", "price_delta": 5000}, {"name": "Syrup", "price_delta": 3000}, {"name": "Foam"}],
}


async def _latte(api: Api, shop: Shop, **extra: object) -> dict:
    return await api.created(
        "/v1/products",
        product_body(shop.id, f"Latte {uuid.uuid4().hex[:4]}", 16000, modifier_groups=[SIZE, EXTRAS], **extra),
        shop.manager,
    )


def _options(product: dict) -> dict[str, str]:
    return {o["name"]: o["id"] for g in product["modifier_groups"] for o in g["options"]}


async def _add(api: Api, user: User, product: dict, names: list[str], quantity: int = 1):
    ids = [_options(product)[n] for n in names]
    return await api.post(
        "/v1/cart/items", {"product_id": product["id"], "option_ids": ids, "quantity": quantity}, user
    )


async def test_a_cart_prices_each_line_with_its_choices(api: Api, shop: Shop) -> None:
    latte = await _latte(api, shop)
    first = await _add(api, shop.customer, latte, ["L", "Shot"], 2)
    assert first.status_code == 200, first.text
    again = await _add(api, shop.customer, latte, ["Shot", "L"])
    (line,) = again.json()["items"]
    assert line["quantity"] == 3, "the same choice, in any order, is one line"
    assert (line["unit_price"], line["line_total"]) == (25000, 75000)
    assert [o["name"] for o in line["options"]] == ["L", "Shot"]
    plain = await _add(api, shop.customer, latte, ["S"])
    cart = plain.json()
    assert [i["unit_price"] for i in cart["items"]] == [25000, 16000]
    assert (cart["subtotal"], cart["currency"], cart["orderable"]) == (91000, "INR", True)
    line_id = cart["items"][1]["id"]
    changed = await api.client.patch(f"/v1/cart/items/{line_id}", json={"quantity": 5}, headers=shop.customer.headers)
    assert changed.json()["subtotal"] == 75000 + 5 * 16000
    removed = await api.client.delete(f"/v1/cart/items/{line_id}", headers=shop.customer.headers)
    assert [i["id"] for i in removed.json()["items"]] == [line["id"]]
    theirs = await api.get("/v1/cart", shop.other_customer, params={"shop_id": shop.id})
    assert theirs.json()["items"] == [], "a cart is its customer's own"
    stolen = await api.client.delete(f"/v1/cart/items/{line['id']}", headers=shop.other_customer.headers)
    assert stolen.status_code == 404
    assert (
        await api.client.delete("/v1/cart", params={"shop_id": shop.id}, headers=shop.customer.headers)
    ).status_code == 204
    assert (await api.get("/v1/cart", shop.customer, params={"shop_id": shop.id})).json()["items"] == []


async def test_today_s_prices_and_problems_show_in_the_cart(api: Api, shop: Shop) -> None:
    latte = await _latte(api, shop)
    bun = await api.created("/v1/products", product_body(shop.id, "Bun", 9000, stock=3), shop.manager)
    gone = await api.created("/v1/products", product_body(shop.id, "Seasonal", 7000), shop.manager)
    await _add(api, shop.customer, latte, ["S"])
    await api.post("/v1/cart/items", {"product_id": bun["id"], "quantity": 2}, shop.customer)
    await api.post("/v1/cart/items", {"product_id": gone["id"]}, shop.customer)

    async def patch(product: dict, body: dict) -> None:
        answer = await api.client.patch(f"/v1/products/{product['id']}", json=body, headers=shop.manager.headers)
        assert answer.status_code == 200, answer.text

    await patch(latte, {"price": 17000})
    await patch(bun, {"stock": 1})
    await patch(gone, {"active": False})
    cart = (await api.get("/v1/cart", shop.customer, params={"shop_id": shop.id})).json()
    problems = {i["name"]: (i["problem"], i["unit_price"]) for i in cart["items"]}
    assert problems[latte["name"]] == (None, 17000)
    assert problems["Bun"] == ("not_enough_stock", 9000)
    assert problems["Seasonal"][0] == "unavailable"
    assert cart["orderable"] is False and cart["subtotal"] == 17000
    await patch(latte, {"modifier_groups": [{**SIZE, "options": [{"name": "M"}]}]})
    cart = (await api.get("/v1/cart", shop.customer, params={"shop_id": shop.id})).json()
    assert {i["name"]: i["problem"] for i in cart["items"]}[latte["name"]] == "choices_changed"


async def test_choices_a_product_does_not_offer_are_422(api: Api, shop: Shop) -> None:
    latte = await _latte(api, shop)
    other = await _latte(api, shop)
    cases = [
        [],  # a size is required
        ["S", "L"],  # one size only
        ["S", "Shot", "Syrup", "Foam"],  # at most two extras
    ]
    for names in cases:
        answer = await _add(api, shop.customer, latte, names)
        assert answer.status_code == 422, names
        assert answer.json()["error"]["details"][0]["field"] == "option_ids"
    foreign = _options(other)["S"]
    answer = await api.post("/v1/cart/items", {"product_id": latte["id"], "option_ids": [foreign]}, shop.customer)
    assert answer.status_code == 422 and "not one of this product's" in answer.json()["error"]["message"]
    twice = _options(latte)["S"]
    answer = await api.post("/v1/cart/items", {"product_id": latte["id"], "option_ids": [twice, twice]}, shop.customer)
    assert answer.status_code == 422
    for body in (
        {"product_id": latte["id"], "option_ids": [twice], "quantity": 0},
        {"product_id": latte["id"], "quantity": "2"},
    ):
        assert (await api.post("/v1/cart/items", body, shop.customer)).status_code == 422
    unknown = await api.post("/v1/cart/items", {"product_id": str(uuid.uuid4())}, shop.customer)
    assert unknown.status_code == 422 and unknown.json()["error"]["details"][0]["field"] == "product_id"
    assert (await _add(api, shop.customer, latte, ["S"], 99)).status_code == 200
    over = await _add(api, shop.customer, latte, ["S"])
    assert over.status_code == 422 and over.json()["error"]["code"] == "too_many"
    sold_out = await api.created("/v1/products", product_body(shop.id, "Last one", 100, stock=0), shop.manager)
    refused = await api.post("/v1/cart/items", {"product_id": sold_out["id"]}, shop.customer)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "out_of_stock"
    assert (await api.get("/v1/cart", shop.customer, params={"shop_id": str(uuid.uuid4())})).status_code == 404
