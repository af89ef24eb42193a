"""Malls and shops: admins open malls, a mall's admins run its shops, anyone signed in browses them."""

from __future__ import annotations

import uuid

import pytest

from tests.helpers import Api, User
from tests.mall.conftest import Mall, new_mall


async def test_a_mall_is_opened_by_an_admin_only_and_read_by_anyone_signed_in(api: Api, admin: User) -> None:
    user = await api.signup()
    refused = await api.post("/v1/malls", {"name": "Mine", "timezone": "Asia/Kolkata"}, user)
    assert refused.status_code == 403
    created = await new_mall(api, admin, address="MG Road", parking={"free_minutes": 30, "hourly_price": 5000})
    assert created["parking"] == {"free_minutes": 30, "hourly_price": 5000, "daily_cap": None}
    assert created["currency"] == "INR" and created["timezone"] == "Asia/Kolkata"
    got = await api.get(f"/v1/malls/{created['id']}", user)
    assert got.status_code == 200 and got.json()["name"] == created["name"]
    assert (await api.get(f"/v1/malls/{uuid.uuid4()}", user)).status_code == 404
    assert (await api.get("/v1/malls", None)).status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "X", "timezone": "Mars/Olympus"}, "timezone"),
        ({"name": "X"}, "timezone"),
        ({"name": "  ", "timezone": "UTC"}, "name"),
        ({"name": "X", "timezone": "UTC", "parking": {"hourly_price": -1}}, "parking.hourly_price"),
        ({"name": "X", "timezone": "UTC", "parking": {"free_minutes": "15"}}, "parking.free_minutes"),
        ({"name": "X", "timezone": "UTC", "currency": "rupees"}, "currency"),
        ({"name": "'; DROP TABLE malls; --", "timezone": "UTC", "address": "a\x00b"}, None),
    ],
)
async def test_bad_mall_input_is_422_naming_the_field(api: Api, admin: User, body: dict, field: str | None) -> None:
    response = await api.post("/v1/malls", body, admin)
    assert response.status_code == 422, response.text
    if field is not None:
        assert field in {d["field"] for d in response.json()["error"]["details"]}


async def test_the_mall_admin_changes_its_mall_and_tariff_but_not_another(api: Api, mall: Mall) -> None:
    path = f"/v1/malls/{mall.id}"
    changed = await api.client.patch(
        path,
        json={"address": "Brigade Road", "parking": {"free_minutes": 0, "hourly_price": 100}},
        headers=mall.mall_admin.headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["address"] == "Brigade Road" and changed.json()["parking"]["free_minutes"] == 0
    cleared = await api.client.patch(path, json={"address": None}, headers=mall.mall_admin.headers)
    assert cleared.json()["address"] is None and cleared.json()["parking"]["hourly_price"] == 100
    assert (await api.client.patch(path, json={"name": None}, headers=mall.mall_admin.headers)).status_code == 422
    other = await api.client.patch(f"/v1/malls/{mall.other_id}", json={"name": "Mine"}, headers=mall.mall_admin.headers)
    assert other.status_code == 403
    assert (await api.client.patch(path, json={"name": "Mine"}, headers=mall.security.headers)).status_code == 403
    assert (await api.client.delete(path, headers=mall.mall_admin.headers)).status_code == 403


async def test_shops_are_run_by_their_malls_admins(api: Api, mall: Mall) -> None:
    body = {
        "mall_id": mall.id,
        "name": "Bean There Cafe",
        "shop_type": "cafe",
        "floor": 1.0,
        "hours": {"opens": "10:00", "closes": "01:00"},
        "phone": " +91 80 1234 5678 ",
    }
    shop = await api.created("/v1/shops", body, mall.mall_admin)
    assert shop["floor"] == 1 and shop["hours"] == {"opens": "10:00", "closes": "01:00"}
    assert shop["phone"] == "+91 80 1234 5678"
    again = await api.post("/v1/shops", body, mall.mall_admin)
    assert again.status_code == 409 and again.json()["error"]["code"] == "duplicate_name"
    elsewhere = await api.post("/v1/shops", {**body, "mall_id": mall.other_id}, mall.mall_admin)
    assert elsewhere.status_code == 403
    missing = await api.post("/v1/shops", {**body, "mall_id": str(uuid.uuid4())}, mall.mall_admin)
    assert missing.status_code == 404
    for hours in ({"opens": "10:00:00", "closes": "22:00"}, {"opens": "24:00", "closes": "22:00"}, {"opens": "10:00"}):
        odd = await api.post("/v1/shops", {**body, "name": "Odd", "hours": hours}, mall.mall_admin)
        assert odd.status_code == 422, hours
    all_day = {**body, "name": "All Day", "hours": {"opens": "00:00", "closes": "00:00"}}
    assert (await api.post("/v1/shops", all_day, mall.mall_admin)).status_code == 201

    listed = await api.get("/v1/shops", mall.shopper, params={"mall_id": mall.id, "shop_type": "cafe"})
    assert shop["id"] in [s["id"] for s in listed.json()["items"]]
    assert {s["shop_type"] for s in listed.json()["items"]} == {"cafe"}
    none = await api.get("/v1/shops", mall.shopper, params={"mall_id": mall.id, "shop_type": "retail"})
    assert none.json()["items"] == []

    renamed = await api.client.patch(f"/v1/shops/{shop['id']}", json={"hours": None}, headers=mall.mall_admin.headers)
    assert (
        renamed.status_code == 200 and renamed.json()["hours"] is None and renamed.json()["name"] == "Bean There Cafe"
    )
    assert (
        await api.client.patch(f"/v1/shops/{shop['id']}", json={"name": "x"}, headers=mall.shopper.headers)
    ).status_code == 403
    assert (await api.client.delete(f"/v1/shops/{shop['id']}", headers=mall.security.headers)).status_code == 403
    assert (await api.client.delete(f"/v1/shops/{shop['id']}", headers=mall.mall_admin.headers)).status_code == 204
    assert (await api.get(f"/v1/shops/{shop['id']}", mall.shopper)).status_code == 404


async def test_a_shop_manager_runs_their_shop_only(api: Api, admin: User, mall: Mall) -> None:
    mine = await api.created("/v1/shops", {"mall_id": mall.id, "name": "Mine", "shop_type": "retail"}, mall.mall_admin)
    theirs = await api.created(
        "/v1/shops", {"mall_id": mall.id, "name": "Theirs", "shop_type": "retail"}, mall.mall_admin
    )
    manager = await api.signup("Manager")
    await api.grant(mall.mall_admin, manager, "shop_manager", "shop", mine["id"])
    ok = await api.client.patch(f"/v1/shops/{mine['id']}", json={"location": "G-4"}, headers=manager.headers)
    assert ok.status_code == 200 and ok.json()["location"] == "G-4"
    clash = await api.client.patch(f"/v1/shops/{mine['id']}", json={"name": "Theirs"}, headers=manager.headers)
    assert clash.status_code == 409
    no = await api.client.patch(f"/v1/shops/{theirs['id']}", json={"location": "G-5"}, headers=manager.headers)
    assert no.status_code == 403
