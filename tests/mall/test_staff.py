"""A mall's staff: its admins and security see who works at the mall and its shops, by name, with
their shop and whether they are on shift; one person's record adds their shift and what they worked.
Other malls, shoppers and the staff themselves (but for their own record) see nothing."""

from __future__ import annotations

import uuid

from tests.helpers import Api, User
from tests.mall.conftest import Mall


async def _staffed(api: Api, mall: Mall) -> tuple[dict, User, User]:
    shop = await api.created(
        "/v1/shops", {"mall_id": mall.id, "name": "Tea Corner", "shop_type": "cafe"}, mall.mall_admin
    )
    barista, manager = await api.signup("Aarav Barista"), await api.signup("Zoya Manager")
    await api.grant(mall.mall_admin, barista, "employee", "shop", shop["id"])
    await api.grant(mall.mall_admin, manager, "shop_manager", "shop", shop["id"])
    return shop, barista, manager


async def test_security_sees_the_malls_staff_by_name_with_shop_and_shift(api: Api, mall: Mall) -> None:
    shop, barista, _ = await _staffed(api, mall)
    clocked = await api.post("/v1/attendance/clock-in", {"shop_id": shop["id"]}, barista)
    assert clocked.status_code == 201, clocked.text
    listed = await api.get(f"/v1/malls/{mall.id}/employees", mall.security)
    assert listed.status_code == 200, listed.text
    rows = [(r["name"], r["role"], r["shop_name"], r["on_shift"]) for r in listed.json()["items"]]
    assert rows == [
        ("Aarav Barista", "employee", "Tea Corner", True),
        ("Arjun", "security", None, False),
        ("Priya", "mall_admin", None, False),
        ("Zoya Manager", "shop_manager", "Tea Corner", False),
    ]
    first = await api.get(f"/v1/malls/{mall.id}/employees", mall.security, params={"limit": 3})
    rest = await api.get(
        f"/v1/malls/{mall.id}/employees", mall.security, params={"limit": 3, "cursor": first.json()["next_cursor"]}
    )
    assert [r["name"] for r in first.json()["items"] + rest.json()["items"]] == [r[0] for r in rows]
    of_shop = await api.get(
        f"/v1/malls/{mall.id}/employees", mall.mall_admin, params={"shop_id": shop["id"], "role": "employee"}
    )
    assert [r["user_id"] for r in of_shop.json()["items"]] == [barista.id]


async def test_one_employees_record_has_roles_shift_and_hours(api: Api, mall: Mall) -> None:
    shop, barista, _ = await _staffed(api, mall)
    await api.post("/v1/attendance/clock-in", {"shop_id": shop["id"]}, barista)
    response = await api.get(f"/v1/malls/{mall.id}/employees/{barista.id}", mall.security)
    assert response.status_code == 200, response.text
    record = response.json()
    assert record["name"] == "Aarav Barista"
    assert record["roles"] == [{"role": "employee", "shop_id": shop["id"], "shop_name": "Tea Corner"}]
    assert record["shift"]["shop_id"] == shop["id"] and record["shift"]["clock_out_at"] is None
    assert record["last_30_days"]["shifts"] == 1 and record["last_30_days"]["days"] == 1
    await api.post("/v1/attendance/clock-out", {}, barista)
    own = await api.get(f"/v1/malls/{mall.id}/employees/{barista.id}", barista)
    assert own.status_code == 200 and own.json()["shift"] is None, "a person reads their own record"
    assert own.json()["last_30_days"]["shifts"] == 1


async def test_no_one_else_reads_the_staff(api: Api, mall: Mall) -> None:
    _, barista, manager = await _staffed(api, mall)
    for outsider in (mall.other_security, mall.shopper, barista):
        assert (await api.get(f"/v1/malls/{mall.id}/employees", outsider)).status_code == 403
    for outsider in (mall.other_security, mall.shopper, manager):
        response = await api.get(f"/v1/malls/{mall.id}/employees/{barista.id}", outsider)
        assert response.status_code == 404
    not_staff = await api.get(f"/v1/malls/{mall.id}/employees/{mall.shopper.id}", mall.mall_admin)
    assert not_staff.status_code == 404
    elsewhere = await api.get(f"/v1/malls/{mall.other_id}/employees/{mall.security.id}", mall.security)
    assert elsewhere.status_code == 404, "security of this mall is no one at the other"
    assert (await api.get(f"/v1/malls/{uuid.uuid4()}/employees", mall.security)).status_code == 404
    for bad in ({"role": "admin"}, {"shop_id": "nope"}, {"cursor": "x"}, {"shop_id": str(uuid.uuid4())}):
        response = await api.get(f"/v1/malls/{mall.id}/employees", mall.security, params=bad)
        assert response.status_code == 422, (bad, response.text)
