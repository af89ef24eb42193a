"""Catalogue extras: featured products, filters by brand and rating with a total count, customers'
favourites, reviews found by rating and words and sorted, and a product ever ordered archived (not
deleted) so its orders keep it."""

from __future__ import annotations

from tests.commerce.conftest import Shop, product_body
from tests.commerce.test_reviews_and_sales import _sell
from tests.helpers import Api, User


async def _review(api: Api, shop: Shop, product: dict, customer: User, rating: int, body: str | None = None) -> dict:
    await _sell(api, shop, customer, product, 1, "cash", "completed")
    return await api.created(f"/v1/products/{product['id']}/reviews", {"rating": rating, "body": body}, customer)


async def test_featured_brand_and_rating_filters_with_a_total(api: Api, admin: User, shop: Shop) -> None:
    watch = await api.created(
        "/v1/products", product_body(shop.id, "Diver", 500000, brand="Seiko", stock=5, featured=True), shop.manager
    )
    dress = await api.created(
        "/v1/products", product_body(shop.id, "Dress", 300000, brand="seiko", stock=5), shop.manager
    )
    other = await api.created(
        "/v1/products", product_body(shop.id, "Field", 200000, brand="Casio", stock=5), shop.manager
    )
    assert watch["featured"] is True and dress["featured"] is False
    third = await api.signup("Third Customer")
    await _review(api, shop, watch, shop.customer, 5)
    await _review(api, shop, dress, shop.customer, 3)
    await _review(api, shop, dress, shop.other_customer, 4)
    await _review(api, shop, other, third, 2)

    async def found(**params: object) -> tuple[list[str], int]:
        response = await api.get("/v1/products", shop.customer, params={"shop_id": shop.id, **params})
        assert response.status_code == 200, response.text
        return [p["name"] for p in response.json()["items"]], response.json()["total"]

    assert await found(featured=True) == (["Diver"], 1)
    assert await found(brand="SEIKO") == (["Diver", "Dress"], 2)
    assert await found(min_rating=3.5) == (["Diver", "Dress"], 2), "Dress averages 3.5"
    assert await found(min_rating=4, brand="seiko") == (["Diver"], 1)
    assert await found(limit=1) == (["Diver"], 3), "the total counts every page"
    assert await found(brand="Rolex") == ([], 0)
    unfeatured = await api.client.patch(
        f"/v1/products/{watch['id']}", json={"featured": False}, headers=shop.manager.headers
    )
    assert unfeatured.status_code == 200 and unfeatured.json()["featured"] is False
    assert await found(featured=True) == ([], 0)
    by_customer = await api.client.patch(
        f"/v1/products/{dress['id']}", json={"featured": True}, headers=shop.customer.headers
    )
    assert by_customer.status_code == 403
    for bad in ({"min_rating": 0}, {"min_rating": 6}, {"min_rating": "high"}, {"brand": ""}, {"featured": "maybe"}):
        response = await api.get("/v1/products", shop.customer, params={"shop_id": shop.id, **bad})
        assert response.status_code == 422, (bad, response.text)


async def test_reviews_by_rating_and_words_in_each_order(api: Api, shop: Shop) -> None:
    lamp = await api.created("/v1/products", product_body(shop.id, "Lamp", 90000, stock=10), shop.manager)
    buyers = [await api.signup(f"Buyer {i}") for i in range(4)]
    made = [
        await _review(api, shop, lamp, buyers[0], 5, "Bright and warm"),
        await _review(api, shop, lamp, buyers[1], 2),
        await _review(api, shop, lamp, buyers[2], 5),
        await _review(api, shop, lamp, buyers[3], 4, "Good value"),
    ]
    path = f"/v1/products/{lamp['id']}/reviews"

    async def ids(**params: object) -> list[str]:
        collected, cursor = [], None
        while True:
            response = await api.get(
                path, shop.customer, params={"limit": 1, **params, **({"cursor": cursor} if cursor else {})}
            )
            assert response.status_code == 200, response.text
            collected += [r["id"] for r in response.json()["items"]]
            cursor = response.json()["next_cursor"]
            if not cursor:
                return collected

    first, low, top, good = (r["id"] for r in made)
    assert await ids() == [good, top, low, first]
    assert await ids(sort="oldest") == [first, low, top, good]
    assert await ids(sort="highest") == [top, first, good, low]
    assert await ids(sort="lowest") == [low, good, first, top]
    assert await ids(rating=5) == [top, first]
    assert await ids(with_text=True) == [good, first]
    assert await ids(with_text=False, sort="lowest") == [low, top]
    newest = await api.get(path, shop.customer, params={"limit": 1})
    mixed = await api.get(path, shop.customer, params={"sort": "highest", "cursor": newest.json()["next_cursor"]})
    assert mixed.status_code == 422, "a cursor belongs to its sort"
    for bad in ({"rating": 0}, {"rating": 6}, {"sort": "best"}, {"with_text": "some"}):
        assert (await api.get(path, shop.customer, params=bad)).status_code == 422, bad


async def test_favourites_are_each_customers_own(api: Api, shop: Shop) -> None:
    tea = await api.created("/v1/products", product_body(shop.id, "Tea", 8000, stock=10), shop.manager)
    cake = await api.created("/v1/products", product_body(shop.id, "Cake", 12000, stock=10), shop.manager)
    hidden = await api.created("/v1/products", product_body(shop.id, "Secret", 1000, active=False), shop.manager)
    for product in (tea, cake, tea):
        liked = await api.client.put(f"/v1/favourites/{product['id']}", headers=shop.customer.headers)
        assert liked.status_code == 204
    assert (await api.client.put(f"/v1/favourites/{hidden['id']}", headers=shop.customer.headers)).status_code == 404
    mine = await api.get("/v1/favourites", shop.customer)
    assert [p["name"] for p in mine.json()["items"]] == ["Cake", "Tea"]
    first = await api.get("/v1/favourites", shop.customer, params={"limit": 1})
    rest = await api.get("/v1/favourites", shop.customer, params={"limit": 1, "cursor": first.json()["next_cursor"]})
    assert [p["name"] for p in rest.json()["items"]] == ["Tea"]
    assert (await api.get("/v1/favourites", shop.other_customer)).json()["items"] == []
    assert (await api.get("/v1/favourites", shop.customer, params={"shop_id": shop.other_id})).json()["items"] == []
    await api.client.delete(f"/v1/favourites/{cake['id']}", headers=shop.customer.headers)
    off_sale = await api.client.patch(f"/v1/products/{tea['id']}", json={"active": False}, headers=shop.manager.headers)
    assert off_sale.status_code == 200
    assert (await api.get("/v1/favourites", shop.customer)).json()["items"] == [], "only what is on sale"


async def test_a_product_ever_ordered_is_archived_not_deleted(api: Api, shop: Shop, db) -> None:
    sold = await api.created("/v1/products", product_body(shop.id, "Sold Once", 5000, stock=10), shop.manager)
    never = await api.created("/v1/products", product_body(shop.id, "Never Sold", 5000, stock=10), shop.manager)
    order = await _sell(api, shop, shop.customer, sold, 1, "cash", "completed")
    await api.client.put(f"/v1/favourites/{sold['id']}", headers=shop.other_customer.headers)
    await api.post("/v1/cart/items", {"product_id": sold["id"], "quantity": 1}, shop.other_customer)
    for product in (sold, never):
        gone = await api.client.delete(f"/v1/products/{product['id']}", headers=shop.manager.headers)
        assert gone.status_code == 204
        assert (await api.get(f"/v1/products/{product['id']}", shop.manager)).status_code == 404
    async with db.connection() as conn:
        kept = await conn.fetchrow("SELECT archived_at, active FROM products WHERE id = $1", sold["id"])
        assert kept is not None and kept["archived_at"] is not None and kept["active"] is False
        assert await conn.fetchval("SELECT count(*) FROM products WHERE id = $1", never["id"]) == 0
    listed = await api.get("/v1/products", shop.manager, params={"shop_id": shop.id, "active": False})
    assert sold["id"] not in [p["id"] for p in listed.json()["items"]]
    held = await api.get(f"/v1/orders/{order['id']}", shop.customer)
    assert held.json()["items"][0]["product_id"] == sold["id"], "the order still names what it sold"
    assert (await api.get("/v1/favourites", shop.other_customer)).json()["items"] == []
    cart = await api.get("/v1/cart", shop.other_customer, params={"shop_id": shop.id})
    assert cart.json()["items"] == []
    again = await api.client.delete(f"/v1/products/{sold['id']}", headers=shop.manager.headers)
    assert again.status_code == 404
    log = await api.get("/v1/audit", shop.manager, params={"scope_type": "shop", "scope_id": shop.id})
    actions = {(r["resource_id"], r["action"]) for r in log.json()["items"]}
    assert (sold["id"], "product.archived") in actions and (never["id"], "product.deleted") in actions
    assert (sold["id"], "product.deleted") not in actions
