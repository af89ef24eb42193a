"""The catalogue cache: pages, a product and a shop's categories come from Redis once read, and every change
that alters what they show (the product, its price, choices, stock, rating, an order's units, an
ingredient, a category, the shop) is seen by the very next read, on any worker. Nothing of one caller's
reaches another, the answers are the same with the cache off, and reads go on when its Redis is away."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY

from tests.commerce.conftest import Shop, product_body
from tests.conftest import RunningServer, free_port
from tests.helpers import Api, User
from tests.realtime.conftest import start_workers, stop_workers

PAGE = {"sort": "price", "limit": 5}


def hits() -> float:
    return sum(
        REGISTRY.get_sample_value("gatehouse_cache_lookups_total", {"kind": kind, "outcome": "hit"}) or 0.0
        for kind in ("products", "product", "categories")
    )


async def _ok(answer: httpx.Response, status: int = 200) -> Any:
    assert answer.status_code == status, answer.text
    return answer.json() if answer.content else None


async def _patch(api: Api, path: str, body: dict, user: User) -> Any:
    return await _ok(await api.client.patch(path, json=body, headers=user.headers))


class Shopper:
    """A customer browsing one shop: a page of products (with filters) and one product, each read twice so
    that the second read is the cache's (the first read of a product in a worker learns its shop)."""

    def __init__(self, api: Api, shop: Shop, user: User) -> None:
        self.api, self.shop, self.user = api, shop, user

    async def page(self, **params: Any) -> dict:
        query = {"shop_id": self.shop.id, **PAGE, **params}
        return await _ok(await self.api.get("/v1/products", self.user, params=query))

    async def names(self, **params: Any) -> list[str]:
        return [p["name"] for p in (await self.page(**params))["items"]]

    async def product(self, product_id: str, status: int = 200) -> Any:
        return await _ok(await self.api.get(f"/v1/products/{product_id}", self.user), status)

    async def warm(self, product_id: str, **params: Any) -> None:
        """Read the page and the product until both are the cache's."""
        before = hits()
        for _ in range(2):
            await self.page(**params)
            await self.product(product_id)
        await self.page(**params)
        assert hits() - before >= 2, "the page and the product were served from the cache"


async def test_a_read_is_served_from_the_cache_until_a_change_drops_it(api: Api, shop: Shop, db) -> None:
    tea = await api.created("/v1/products", product_body(shop.id, "Tea", 4000, stock=5), shop.manager)
    shopper = Shopper(api, shop, shop.customer)
    await shopper.warm(tea["id"])
    async with db.connection() as conn:  # behind the server's back: only the cache can still say "Tea"
        await conn.execute("UPDATE products SET name = 'Green tea' WHERE id = $1", tea["id"])
    assert await shopper.names() == ["Tea"] and (await shopper.product(tea["id"]))["name"] == "Tea"
    await _patch(api, f"/v1/products/{tea['id']}", {"price": 4500}, shop.manager)
    fresh = await shopper.product(tea["id"])
    assert (fresh["name"], fresh["price"]) == ("Green tea", 4500)
    assert (await shopper.page())["items"] == [fresh]


async def test_each_change_to_a_product_is_seen_by_the_next_read(api: Api, shop: Shop) -> None:
    shopper = Shopper(api, shop, shop.customer)
    mug = await api.created("/v1/products", product_body(shop.id, "Mug", 30000, stock=3), shop.manager)
    path = f"/v1/products/{mug['id']}"
    changes: list[tuple[dict, str, Any]] = [
        ({"price": 25000}, "price", 25000),
        ({"name": "Big mug"}, "name", "Big mug"),
        ({"featured": True}, "featured", True),
        ({"image_urls": ["https://img.example.com/mug.png"]}, "image_urls", ["https://img.example.com/mug.png"]),
        ({"stock": 0}, "in_stock", False),
        ({"stock": 7}, "stock", 7),
        ({"brand": "Clayworks"}, "brand", "Clayworks"),
    ]
    for body, field, value in changes:
        await shopper.warm(mug["id"])
        await _patch(api, path, body, shop.manager)
        assert (await shopper.product(mug["id"]))[field] == value, body
        assert (await shopper.page())["items"][0][field] == value, body
    await shopper.warm(mug["id"], featured="true")
    await _patch(api, path, {"modifier_groups": [{"name": "Lid", "options": [{"name": "Bamboo"}]}]}, shop.manager)
    assert (await shopper.product(mug["id"]))["modifier_groups"][0]["options"][0]["name"] == "Bamboo"
    assert (await shopper.page(featured="true"))["items"][0]["modifier_groups"][0]["name"] == "Lid"
    await shopper.warm(mug["id"], in_stock="true")
    moved = await api.post(f"{path}/stock-moves", {"kind": "waste", "amount": 7}, shop.employee)
    assert moved.status_code == 200, moved.text
    assert (await shopper.product(mug["id"]))["stock"] == 0 and await shopper.names(in_stock="true") == []
    await api.post(f"{path}/stock-moves", {"kind": "restock", "amount": 2}, shop.employee)
    assert (await shopper.product(mug["id"]))["stock"] == 2 and await shopper.names(in_stock="true") == ["Big mug"]
    await shopper.warm(mug["id"])
    await _patch(api, path, {"active": False}, shop.manager)
    assert await shopper.names() == [] and await shopper.product(mug["id"], 404)
    await _patch(api, path, {"active": True}, shop.manager)
    assert await shopper.names() == ["Big mug"]
    await shopper.warm(mug["id"])
    await _ok(await api.client.delete(path, headers=shop.manager.headers), 204)
    assert await shopper.names() == [] and await shopper.product(mug["id"], 404)


async def test_new_products_and_categories_are_seen_at_once(api: Api, shop: Shop) -> None:
    shopper = Shopper(api, shop, shop.customer)
    first = await api.created("/v1/products", product_body(shop.id, "Scone", 9000), shop.manager)
    categories = f"/v1/shops/{shop.id}/categories"
    for _ in range(2):
        assert (await _ok(await api.get(categories, shop.customer)))["items"] == []
    await shopper.warm(first["id"])
    bakes = await api.created(categories, {"name": "Bakes"}, shop.manager)
    assert [c["name"] for c in (await _ok(await api.get(categories, shop.customer)))["items"]] == ["Bakes"]
    await api.created("/v1/products", product_body(shop.id, "Bun", 5000, category_id=bakes["id"]), shop.manager)
    assert await shopper.names() == ["Bun", "Scone"]
    await shopper.names(category_id=bakes["id"])
    await _patch(api, f"/v1/products/{first['id']}", {"category_id": bakes["id"]}, shop.manager)
    assert await shopper.names(category_id=bakes["id"]) == ["Bun", "Scone"]
    await _patch(api, f"{categories}/{bakes['id']}", {"name": "Baked"}, shop.manager)
    assert [c["name"] for c in (await _ok(await api.get(categories, shop.customer)))["items"]] == ["Baked"]
    await shopper.warm(first["id"])
    await _ok(await api.client.delete(f"{categories}/{bakes['id']}", headers=shop.manager.headers), 204)
    assert (await _ok(await api.get(categories, shop.customer)))["items"] == []
    assert (await shopper.product(first["id"]))["category_id"] is None
    assert [p["category_id"] for p in (await shopper.page())["items"]] == [None, None]


async def test_an_order_and_its_cancellation_move_the_stock_shown(api: Api, shop: Shop) -> None:
    shopper = Shopper(api, shop, shop.customer)
    watch = await api.created("/v1/products", product_body(shop.id, "Watch", 500000, stock=2), shop.manager)
    await shopper.warm(watch["id"], in_stock="true")
    line = {"product_id": watch["id"], "quantity": 2}
    order = await api.created("/v1/orders", {"shop_id": shop.id, "items": [line]}, shop.employee)
    assert (await shopper.product(watch["id"]))["stock"] == 0
    assert await shopper.names(in_stock="true") == [] and await shopper.names(in_stock="false") == ["Watch"]
    await shopper.warm(watch["id"], in_stock="false")
    await _ok(await api.post(f"/v1/orders/{order['id']}/status", {"to": "cancelled"}, shop.employee))
    assert (await shopper.product(watch["id"]))["stock"] == 2
    assert await shopper.names(in_stock="false") == [] and await shopper.names(in_stock="true") == ["Watch"]


async def test_an_ingredient_running_out_or_a_recipe_change_moves_in_stock(api: Api, shop: Shop) -> None:
    shopper = Shopper(api, shop, shop.customer)
    milk = await api.created(
        f"/v1/shops/{shop.id}/inventory", {"name": "Milk", "unit": "ml", "quantity": 300}, shop.manager
    )
    latte = await api.created("/v1/products", product_body(shop.id, "Latte", 16000), shop.manager)
    await shopper.warm(latte["id"], in_stock="true")
    recipe = [{"item_id": milk["id"], "amount": 200}]
    await _ok(
        await api.client.put(f"/v1/products/{latte['id']}/recipe", json={"lines": recipe}, headers=shop.manager.headers)
    )
    assert (await shopper.product(latte["id"]))["in_stock"] is True
    await shopper.warm(latte["id"], in_stock="true")
    sold = await api.post(
        "/v1/orders", {"shop_id": shop.id, "items": [{"product_id": latte["id"], "quantity": 1}]}, shop.employee
    )
    assert sold.status_code == 201, sold.text
    assert (await shopper.product(latte["id"]))["in_stock"] is False, "100 ml left, a latte takes 200"
    assert await shopper.names(in_stock="true") == []
    await shopper.warm(latte["id"], in_stock="false")
    moves = f"/v1/shops/{shop.id}/inventory/{milk['id']}/moves"
    await _ok(await api.post(moves, {"kind": "restock", "amount": 1000}, shop.employee))
    assert (await shopper.product(latte["id"]))["in_stock"] is True and await shopper.names(in_stock="false") == []
    await shopper.warm(latte["id"])
    recipe = [{"item_id": milk["id"], "amount": 5000}]
    await _ok(
        await api.client.put(f"/v1/products/{latte['id']}/recipe", json={"lines": recipe}, headers=shop.manager.headers)
    )
    assert (await shopper.product(latte["id"]))["in_stock"] is False


async def test_a_review_moves_the_rating_shown_and_the_rating_filter(api: Api, shop: Shop) -> None:
    shopper = Shopper(api, shop, shop.customer)
    cake = await api.created("/v1/products", product_body(shop.id, "Cake", 15000, stock=5), shop.manager)
    order = await api.created(
        "/v1/orders",
        {"shop_id": shop.id, "items": [{"product_id": cake["id"], "quantity": 1}], "customer_id": shop.customer.id},
        shop.employee,
    )
    await _ok(
        await api.post(
            f"/v1/orders/{order['id']}/payments", {"method": "cash", "amount": order["total"]}, shop.employee
        ),
        201,
    )
    for step in ("preparing", "ready", "completed"):
        await _ok(await api.post(f"/v1/orders/{order['id']}/status", {"to": step}, shop.employee))
    await shopper.warm(cake["id"], min_rating=4)
    assert await shopper.names(min_rating=4) == []
    await _ok(await api.post(f"/v1/products/{cake['id']}/reviews", {"rating": 5}, shop.customer), 201)
    assert ((await shopper.product(cake["id"]))["rating"], (await shopper.product(cake["id"]))["rating_count"]) == (
        5.0,
        1,
    )
    assert await shopper.names(min_rating=4) == ["Cake"]


async def test_a_deleted_shop_is_gone_from_the_cache_too(api: Api, admin: User, shop: Shop) -> None:
    shopper = Shopper(api, shop, shop.customer)
    bread = await api.created("/v1/products", product_body(shop.id, "Bread", 3000), shop.manager)
    await shopper.warm(bread["id"])
    await _ok(await api.client.delete(f"/v1/shops/{shop.id}", headers=admin.headers), 204)
    page = await api.get("/v1/products", shop.customer, params={"shop_id": shop.id, **PAGE})
    assert page.status_code == 404 and await shopper.product(bread["id"], 404)


async def test_nobody_is_served_what_was_read_for_someone_else(api: Api, shop: Shop) -> None:
    on_sale = await api.created("/v1/products", product_body(shop.id, "Jam", 2000), shop.manager)
    hidden = await api.created("/v1/products", product_body(shop.id, "Secret recipe", 1000, active=False), shop.manager)
    await _ok(await api.client.put(f"/v1/favourites/{on_sale['id']}", headers=shop.customer.headers), 204)
    manager, customer, other = (Shopper(api, shop, u) for u in (shop.manager, shop.customer, shop.other_customer))
    for _ in range(2):
        assert await manager.names() == ["Secret recipe", "Jam"]
        assert (await manager.product(hidden["id"]))["name"] == "Secret recipe"
    assert await customer.names() == ["Jam"] and await other.names() == ["Jam"]
    await customer.product(hidden["id"], 404)
    await other.product(hidden["id"], 404)
    assert await customer.page() == await other.page()
    assert await customer.product(on_sale["id"]) == await other.product(on_sale["id"])
    favourites = await _ok(await api.get("/v1/favourites", shop.other_customer))
    assert favourites["items"] == [], "a customer's favourites are their own"


@pytest.fixture
async def uncached(settings) -> AsyncIterator[Api]:
    server = RunningServer(replace(settings, catalogue_cache_ttl=0))
    await server.start()
    async with httpx.AsyncClient(base_url=server.url, timeout=15) as client:
        yield Api(client, server.url)
    await server.stop()


async def test_the_answers_are_the_same_with_the_cache_off(api: Api, uncached: Api, shop: Shop) -> None:
    for n, name in enumerate(("Apple", "Banana", "Cherry", "Date", "Elderberry", "Fig", "Grape")):
        await api.created(
            "/v1/products", product_body(shop.id, name, 1000 + 100 * (n % 3), stock=n, brand="Orchard"), shop.manager
        )
    queries = [
        {"sort": "price", "limit": 3},
        {"sort": "-price", "limit": 2, "in_stock": "true"},
        {"q": "an", "limit": 5},
        {"brand": "orchard", "min_price": 1100, "sort": "newest"},
    ]
    for query in queries:
        params = {"shop_id": shop.id, **query}
        while True:
            for _ in range(2):
                cached = await _ok(await api.get("/v1/products", shop.customer, params=params))
            assert cached == await _ok(await uncached.get("/v1/products", shop.customer, params=params)), query
            for product in cached["items"]:
                for _ in range(2):
                    one = await _ok(await api.get(f"/v1/products/{product['id']}", shop.customer))
                assert one == product == await _ok(await uncached.get(f"/v1/products/{product['id']}", shop.customer))
            if not cached["next_cursor"]:
                break
            params["cursor"] = cached["next_cursor"]
    categories = f"/v1/shops/{shop.id}/categories"
    assert await _ok(await api.get(categories, shop.customer)) == await _ok(
        await uncached.get(categories, shop.customer)
    )


async def test_reads_and_changes_go_on_when_the_caches_redis_is_away(settings, api: Api, shop: Shop) -> None:
    bean = await api.created("/v1/products", product_body(shop.id, "Bean", 700, stock=4), shop.manager)
    away = RunningServer(replace(settings, redis_url=f"redis://127.0.0.1:{free_port()}/0"))
    await away.start()
    try:
        async with httpx.AsyncClient(base_url=away.url, timeout=15) as client:
            without = Api(client, away.url)
            shopper = Shopper(without, shop, shop.customer)
            for _ in range(3):
                assert await shopper.names() == ["Bean"] and (await shopper.product(bean["id"]))["stock"] == 4
            await _patch(without, f"/v1/products/{bean['id']}", {"price": 800}, shop.manager)
            assert (await shopper.product(bean["id"]))["price"] == 800
            assert (await shopper.page())["items"][0]["price"] == 800
    finally:
        await away.stop()
    unavailable = REGISTRY.get_sample_value(
        "gatehouse_cache_lookups_total", {"kind": "product", "outcome": "unavailable"}
    )
    assert unavailable, "the lookups were tried and went to PostgreSQL"


@pytest.fixture(scope="module")
async def two_workers(settings) -> AsyncIterator[tuple[Api, Api]]:
    workers = await start_workers(settings, 2)
    try:
        async with (
            httpx.AsyncClient(base_url=workers[0].url, timeout=15) as first,
            httpx.AsyncClient(base_url=workers[1].url, timeout=15) as second,
        ):
            yield Api(first, workers[0].url), Api(second, workers[1].url)
    finally:
        stop_workers(workers)


async def _worker_hits(api: Api) -> float:
    """The cache hits a worker counted, from its /metrics (this machine may read them)."""
    text = (await api.client.get("/metrics")).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("gatehouse_cache_lookups_total{") and 'outcome="hit"' in line
    )


async def test_a_change_through_one_worker_is_read_through_the_other(api: Api, two_workers, shop: Shop) -> None:
    writer, reader = two_workers
    pen = await api.created("/v1/products", product_body(shop.id, "Pen", 1500, stock=9), shop.manager)
    shopper = Shopper(reader, shop, shop.customer)
    before = await _worker_hits(reader)
    for _ in range(3):
        assert (await shopper.product(pen["id"]))["price"] == 1500 and await shopper.names() == ["Pen"]
    assert await _worker_hits(reader) - before >= 3, "the reading worker served them from the cache"
    await _patch(writer, f"/v1/products/{pen['id']}", {"price": 1700, "name": "Fountain pen"}, shop.manager)
    assert (await shopper.product(pen["id"]))["price"] == 1700
    assert await shopper.names() == ["Fountain pen"]
    order = await writer.post(
        "/v1/orders", {"shop_id": shop.id, "items": [{"product_id": pen["id"], "quantity": 4}]}, shop.employee
    )
    assert order.status_code == 201, order.text
    assert (await shopper.product(pen["id"]))["stock"] == 5 and (await shopper.page())["items"][0]["stock"] == 5
