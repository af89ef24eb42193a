"""The web shop in a browser: cookie sign-in, shopping with the cookie alone (writes only from an allowed
origin), refresh through the cookie, and a logout that clears both cookies and ends the session; a bearer
client beside it is untouched by any of it."""

from __future__ import annotations

import httpx

from tests.commerce.conftest import Shop, product_body
from tests.helpers import PASSWORD, Api


async def test_a_browser_shops_signed_in_by_cookie(api: Api, server, shop: Shop) -> None:
    tea = await api.created("/v1/products", product_body(shop.id, "Browser tea", 4000, stock=3), shop.manager)
    origin = {"origin": server.url}
    async with httpx.AsyncClient(base_url=server.url, timeout=15) as browser:
        login = await browser.post("/v1/auth/login", json={"email": shop.customer.email, "password": PASSWORD})
        assert login.status_code == 200
        assert {"gh_access", "gh_refresh"} <= set(browser.cookies.keys())

        line = {"product_id": tea["id"], "quantity": 2}
        forged = await browser.post("/v1/cart/items", json=line, headers={"origin": "https://evil.example"})
        assert forged.status_code == 403 and forged.json()["error"]["code"] == "origin_refused"
        assert (await browser.post("/v1/cart/items", json=line)).status_code == 403, "no origin, no cookie write"
        assert (await browser.post("/v1/cart/items", json=line, headers=origin)).status_code == 200
        order = await browser.post("/v1/orders", json={"shop_id": shop.id}, headers=origin)
        assert order.status_code == 201, order.text

        old_access = browser.cookies.get("gh_access")
        refreshed = await browser.post("/v1/auth/refresh", json={}, headers=origin)
        assert refreshed.status_code == 200, refreshed.text
        assert browser.cookies.get("gh_access") != old_access
        mine = await browser.get("/v1/orders")
        assert [o["id"] for o in mine.json()["items"]] == [order.json()["id"]]

        out = await browser.post("/v1/auth/logout", json={}, headers=origin)
        assert out.status_code == 204
        cleared = [c for c in out.headers.get_list("set-cookie") if "Max-Age=0" in c or "expires=" in c.lower()]
        assert {c.split("=", 1)[0] for c in cleared} >= {"gh_access", "gh_refresh"}
        assert "gh_access" not in browser.cookies and "gh_refresh" not in browser.cookies
        assert (await browser.get("/v1/orders")).status_code == 401
        browser.cookies.set("gh_access", old_access or "")
        assert (await browser.get("/v1/orders")).status_code == 401, "the session ended with the logout"

    # A bearer client needs no origin, and is not this browser's session.
    bearer = await api.post("/v1/cart/items", line, shop.other_customer)
    assert bearer.status_code == 200
