"""The catalogue: managers keep categories and products with their choices; customers browse, search,
filter and sort with keyset pages; inactive products are the staff's alone; bad input is a clear 422."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.commerce.conftest import Shop, product_body
from tests.helpers import Api, User, connect, settle

SIZE = {
    "name": "Size",
    "min_choices": 1,
    "max_choices": 1,
    "options": [{"name": "Small"}, {"name": "Large", "price_delta": 4000}],
}


async def _patch(api: Api, path: str, body: dict, user: User):
    return await api.client.patch(path, json=body, headers=user.headers)


async def test_a_manager_builds_a_menu_that_customers_read(api: Api, shop: Shop) -> None:
    coffee = await api.created(f"/v1/shops/{shop.id}/categories", {"name": "Coffee", "position": 1}, shop.manager)
    bakery = await api.created(f"/v1/shops/{shop.id}/categories", {"name": "Bakery", "position": 0}, shop.manager)
    listed = await api.get(f"/v1/shops/{shop.id}/categories", shop.customer)
    assert [c["name"] for c in listed.json()["items"]] == ["Bakery", "Coffee"]
    latte = await api.created(
        "/v1/products",
        product_body(shop.id, "Latte", 16000, category_id=coffee["id"], modifier_groups=[SIZE]),
        shop.manager,
    )
    assert latte["currency"] == "INR" and latte["made_to_order"] is True and latte["in_stock"] is True
    (size,) = latte["modifier_groups"]
    assert [(o["name"], o["price_delta"]) for o in size["options"]] == [("Small", 0), ("Large", 4000)]
    bun = await api.created(
        "/v1/products", product_body(shop.id, "Cinnamon bun", 9000, category_id=bakery["id"], stock=2), shop.manager
    )
    assert bun["stock"] == 2 and bun["made_to_order"] is False
    seen = await api.get(f"/v1/products/{latte['id']}", shop.customer)
    assert seen.json() == latte
    in_bakery = await api.get("/v1/products", shop.customer, params={"shop_id": shop.id, "category_id": bakery["id"]})
    assert [p["name"] for p in in_bakery.json()["items"]] == ["Cinnamon bun"]


async def test_choices_keep_their_ids_while_they_keep_their_names(api: Api, shop: Shop) -> None:
    latte = await api.created(
        "/v1/products", product_body(shop.id, "Flat white", 15000, modifier_groups=[SIZE]), shop.manager
    )
    large = latte["modifier_groups"][0]["options"][1]
    milk = {"name": "Milk", "max_choices": 1, "options": [{"name": "Oat", "price_delta": 3000}]}
    resized = {**SIZE, "options": [{"name": "Large", "price_delta": 5000}, {"name": "Medium", "price_delta": 2000}]}
    changed = await _patch(api, f"/v1/products/{latte['id']}", {"modifier_groups": [milk, resized]}, shop.manager)
    assert changed.status_code == 200, changed.text
    groups = changed.json()["modifier_groups"]
    assert [g["name"] for g in groups] == ["Milk", "Size"]
    assert groups[1]["id"] == latte["modifier_groups"][0]["id"]
    options = {o["name"]: o for o in groups[1]["options"]}
    assert options["Large"]["id"] == large["id"] and options["Large"]["price_delta"] == 5000
    assert "Small" not in options, "an option no longer named is gone"
    cleared = await _patch(api, f"/v1/products/{latte['id']}", {"modifier_groups": []}, shop.manager)
    assert cleared.json()["modifier_groups"] == []


async def test_search_filters_and_sorts_page_by_page(api: Api, shop: Shop) -> None:
    made = []
    for i, (name, brand, price, stock) in enumerate(
        [
            ("Chocolate muffin", "Home", 8000, 5),
            ("Dark chocolate bar", "Amul", 12000, 0),
            ("Hot chocolate", None, 14000, None),
            ("Vanilla muffin", "Home", 7000, 3),
            ("Espresso", None, 11000, None),
        ]
    ):
        body = product_body(shop.id, name, price, brand=brand, stock=stock, description=f"Item {i}")
        made.append(await api.created("/v1/products", body, shop.manager))

    async def names(**params: object) -> list[str]:
        answer = await api.get("/v1/products", shop.customer, params={"shop_id": shop.id, **params})
        assert answer.status_code == 200, answer.text
        return [p["name"] for p in answer.json()["items"]]

    assert set(await names(q="chocolate")) == {"Chocolate muffin", "Dark chocolate bar", "Hot chocolate"}
    assert set(await names(q="choc muf")) == {"Chocolate muffin"}, "every word, each as a prefix"
    assert await names(q="amul") == ["Dark chocolate bar"], "the brand is searched too"
    assert await names(q="'; DROP TABLE products; --") == []
    assert await names(q="chocolate & | ! :*") != [], "tsquery syntax in the words is only text"
    assert await names(min_price=8000, max_price=12000, sort="price") == [
        "Chocolate muffin",
        "Espresso",
        "Dark chocolate bar",
    ]
    assert "Dark chocolate bar" not in await names(in_stock="true")
    assert await names(in_stock="false") == ["Dark chocolate bar"]
    assert (await names(sort="-price"))[0] == "Hot chocolate"
    assert (await names(sort="newest"))[0] == "Espresso"

    for sort in ("name", "price", "-price", "newest", "rating"):
        everything = await names(sort=sort)
        pages, cursor = [], None
        while True:
            params = {"shop_id": shop.id, "sort": sort, "limit": 2, **({"cursor": cursor} if cursor else {})}
            answer = (await api.get("/v1/products", shop.customer, params=params)).json()
            pages.extend(p["name"] for p in answer["items"])
            cursor = answer["next_cursor"]
            if cursor is None:
                break
        assert pages == everything, sort
    relevance_page = (
        await api.get("/v1/products", shop.customer, params={"shop_id": shop.id, "q": "chocolate", "limit": 1})
    ).json()
    mixed = await api.get(
        "/v1/products",
        shop.customer,
        params={"shop_id": shop.id, "sort": "price", "cursor": relevance_page["next_cursor"]},
    )
    assert mixed.status_code == 422 and mixed.json()["error"]["code"] == "invalid_cursor", "a cursor is for its sort"


async def test_inactive_products_are_for_the_staff_only(api: Api, shop: Shop) -> None:
    hidden = await api.created("/v1/products", product_body(shop.id, "Secret menu", 5000, active=False), shop.manager)
    assert (await api.get(f"/v1/products/{hidden['id']}", shop.customer)).status_code == 404
    assert (await api.get(f"/v1/products/{hidden['id']}", shop.employee)).status_code == 200
    as_customer = await api.get("/v1/products", shop.customer, params={"shop_id": shop.id, "active": "false"})
    assert as_customer.json()["items"] == [], "a shopper's active=false is ignored"
    as_staff = await api.get("/v1/products", shop.employee, params={"shop_id": shop.id, "active": "false"})
    assert [p["id"] for p in as_staff.json()["items"]] == [hidden["id"]]


async def test_only_the_shops_managers_write(api: Api, admin: User, shop: Shop) -> None:
    body = product_body(shop.id, "Tea", 5000)
    for user in (shop.employee, shop.customer, shop.other_manager):
        assert (await api.post("/v1/products", body, user)).status_code == 403
        assert (await api.post(f"/v1/shops/{shop.id}/categories", {"name": "X"}, user)).status_code == 403
    tea = await api.created("/v1/products", body, shop.manager)
    assert (await _patch(api, f"/v1/products/{tea['id']}", {"price": 1}, shop.other_manager)).status_code == 403
    assert (await api.client.delete(f"/v1/products/{tea['id']}", headers=shop.employee.headers)).status_code == 403
    assert (await _patch(api, f"/v1/products/{tea['id']}", {"price": 6000}, admin)).json()["price"] == 6000
    assert (await api.client.delete(f"/v1/products/{tea['id']}", headers=shop.manager.headers)).status_code == 204
    assert (await api.get(f"/v1/products/{tea['id']}", shop.manager)).status_code == 404
    theirs = await api.created(f"/v1/shops/{shop.other_id}/categories", {"name": "Theirs"}, shop.other_manager)
    misfiled = await api.post(
        "/v1/products", product_body(shop.id, "Misfiled", 100, category_id=theirs["id"]), shop.manager
    )
    assert misfiled.status_code == 422 and misfiled.json()["error"]["code"] == "unknown_category"
    moved = await _patch(api, f"/v1/shops/{shop.id}/categories/{theirs['id']}", {"name": "Mine"}, shop.manager)
    assert moved.status_code == 404, "another shop's category is not found through this one"
    assert (await api.post(f"/v1/shops/{uuid.uuid4()}/categories", {"name": "X"}, admin)).status_code == 404
    assert (await api.get("/v1/products", shop.customer, params={"shop_id": str(uuid.uuid4())})).status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"price": -1}, "price"),
        ({"price": "100"}, "price"),
        ({"price": 1.5}, "price"),
        ({"name": ""}, "name"),
        ({"stock": -3}, "stock"),
        ({"image_urls": ["javascript:alert(1)"]}, "image_urls.0"),
        ({"modifier_groups": [{**SIZE, "min_choices": 3}]}, "modifier_groups.0"),
        ({"modifier_groups": [{**SIZE, "options": []}]}, "modifier_groups.0.options"),
        ({"modifier_groups": [SIZE, SIZE]}, None),
    ],
)
async def test_bad_products_are_422_naming_the_field(api: Api, shop: Shop, change: dict, field: str | None) -> None:
    answer = await api.post("/v1/products", {**product_body(shop.id, "Bad", 100), **change}, shop.manager)
    assert answer.status_code == 422, answer.text
    if field is not None:
        assert any(e["field"] == field for e in answer.json()["error"]["details"]), answer.json()


async def test_a_product_created_twice_on_a_retry_is_one_product(api: Api, shop: Shop) -> None:
    key = {"idempotency-key": str(uuid.uuid4())}
    body = product_body(shop.id, "Retried scone", 7000, stock=4)
    answers = await asyncio.gather(*(api.post("/v1/products", body, shop.manager, headers=key) for _ in range(3)))
    assert {a.status_code for a in answers} == {201} and len({a.json()["id"] for a in answers}) == 1
    listed = await api.get("/v1/products", shop.customer, params={"shop_id": shop.id, "q": "scone"})
    assert len(listed.json()["items"]) == 1


async def test_the_shops_screens_hear_of_product_changes(api: Api, server, shop: Shop) -> None:
    counter = await connect(server.url, shop.employee.access_token)
    outsider = await connect(server.url, shop.other_manager.access_token)
    try:
        assert (await counter.join("shop", shop.id))["ok"] is True
        assert (await outsider.join("shop", shop.id))["ok"] is False
        scone = await api.created("/v1/products", product_body(shop.id, "Scone", 6000, stock=4), shop.manager)
        await _patch(api, f"/v1/products/{scone['id']}", {"price": 6500}, shop.manager)
        heard = await counter.wait_for("product_updated", count=2)
        assert [e["data"]["price"] for e in heard] == [6000, 6500]
        await settle()
        assert outsider.of("product_updated") == []
    finally:
        await counter.close()
        await outsider.close()
