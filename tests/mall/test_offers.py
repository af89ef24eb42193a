"""Offers: a discount at some of a mall's shops for a while, and which run now."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from tests.helpers import Api
from tests.mall.conftest import Mall


def _at(hours: float) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours)).isoformat()


async def _shop(api: Api, mall: Mall, name: str) -> dict:
    return await api.created("/v1/shops", {"mall_id": mall.id, "name": name, "shop_type": "retail"}, mall.mall_admin)


async def test_active_offers_per_mall_and_per_shop(api: Api, mall: Mall) -> None:
    watches, cafe = await _shop(api, mall, "Watches"), await _shop(api, mall, "Cafe")
    now = await api.created(
        "/v1/offers",
        {
            "mall_id": mall.id,
            "title": "Now",
            "discount_percent": 20,
            "starts_at": _at(-1),
            "ends_at": _at(5),
            "shop_ids": [watches["id"], cafe["id"]],
        },
        mall.mall_admin,
    )
    assert sorted(now["shop_ids"]) == sorted([watches["id"], cafe["id"]])
    later = await api.created(
        "/v1/offers",
        {
            "mall_id": mall.id,
            "title": "Later",
            "discount_percent": 100,
            "starts_at": _at(24),
            "ends_at": _at(48),
            "shop_ids": [watches["id"]],
        },
        mall.mall_admin,
    )
    running = await api.get("/v1/offers", mall.shopper, params={"mall_id": mall.id, "active": "true"})
    assert [o["id"] for o in running.json()["items"]] == [now["id"]]
    at_watches = await api.get("/v1/offers", mall.shopper, params={"mall_id": mall.id, "shop_id": watches["id"]})
    assert {o["id"] for o in at_watches.json()["items"]} == {now["id"], later["id"]}
    at_cafe_later = await api.get(
        "/v1/offers", mall.shopper, params={"mall_id": mall.id, "shop_id": cafe["id"], "active": "false"}
    )
    assert at_cafe_later.json()["items"] == []
    assert (await api.client.delete(f"/v1/offers/{later['id']}", headers=mall.security.headers)).status_code == 403
    assert (await api.client.delete(f"/v1/offers/{later['id']}", headers=mall.mall_admin.headers)).status_code == 204
    assert (await api.get(f"/v1/offers/{later['id']}", mall.shopper)).status_code == 404


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"discount_percent": 0}, 422),
        ({"discount_percent": 101}, 422),
        ({"ends_at": "before"}, 422),
        ({"shop_ids": []}, 422),
        ({"shop_ids": "all"}, 422),
        ({"title": ""}, 422),
    ],
)
async def test_bad_offers_are_422(api: Api, mall: Mall, change: dict, status: int) -> None:
    shop = await _shop(api, mall, f"Shop {uuid.uuid4().hex[:4]}")
    body = {
        "mall_id": mall.id,
        "title": "Sale",
        "discount_percent": 10,
        "starts_at": _at(1),
        "ends_at": _at(2),
        "shop_ids": [shop["id"]],
        **change,
    }
    if change.get("ends_at") == "before":
        body["ends_at"] = _at(0.5)
    assert (await api.post("/v1/offers", body, mall.mall_admin)).status_code == status


async def test_an_offer_covers_only_its_own_malls_shops(api: Api, admin, mall: Mall) -> None:
    elsewhere = await api.created("/v1/shops", {"mall_id": mall.other_id, "name": "Far", "shop_type": "retail"}, admin)
    body = {
        "mall_id": mall.id,
        "title": "Sale",
        "discount_percent": 10,
        "starts_at": _at(1),
        "ends_at": _at(2),
        "shop_ids": [elsewhere["id"]],
    }
    refused = await api.post("/v1/offers", body, mall.mall_admin)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "unknown_shop"
    assert (await api.post("/v1/offers", {**body, "mall_id": mall.other_id}, mall.mall_admin)).status_code == 403


async def test_an_offer_is_extended_and_moved_to_other_shops(api: Api, admin, mall: Mall) -> None:
    watches, cafe = await _shop(api, mall, "Extend Watches"), await _shop(api, mall, "Extend Cafe")
    body = {
        "mall_id": mall.id,
        "title": "Short",
        "discount_percent": 10,
        "starts_at": _at(-1),
        "ends_at": _at(1),
        "shop_ids": [watches["id"]],
    }
    offer = await api.created("/v1/offers", body, mall.mall_admin)
    path = f"/v1/offers/{offer['id']}"
    changed = await api.client.patch(
        path,
        json={"ends_at": _at(48), "discount_percent": 25, "shop_ids": [cafe["id"]]},
        headers=mall.mall_admin.headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["discount_percent"] == 25 and changed.json()["shop_ids"] == [cafe["id"]]
    assert changed.json()["title"] == "Short", "what was not sent stays"
    at_cafe = await api.get(
        "/v1/offers", mall.shopper, params={"mall_id": mall.id, "shop_id": cafe["id"], "active": "true"}
    )
    assert [o["id"] for o in at_cafe.json()["items"]] == [offer["id"]]
    at_watches = await api.get("/v1/offers", mall.shopper, params={"mall_id": mall.id, "shop_id": watches["id"]})
    assert at_watches.json()["items"] == []

    backwards = await api.client.patch(path, json={"ends_at": _at(-2)}, headers=mall.mall_admin.headers)
    assert backwards.status_code == 422 and backwards.json()["error"]["code"] == "invalid_range"
    elsewhere = await api.created(
        "/v1/shops",
        {"mall_id": mall.other_id, "name": "Across Town", "shop_type": "retail"},
        admin,
    )
    foreign = await api.client.patch(path, json={"shop_ids": [elsewhere["id"]]}, headers=mall.mall_admin.headers)
    assert foreign.status_code == 422 and foreign.json()["error"]["code"] == "unknown_shop"
    assert (await api.client.patch(path, json={"title": "Mine"}, headers=mall.security.headers)).status_code == 403
    assert (
        await api.client.patch(path, json={"discount_percent": 0}, headers=mall.mall_admin.headers)
    ).status_code == 422
    unchanged = (await api.get(path, mall.shopper)).json()
    assert unchanged == changed.json(), "refused changes changed nothing"
