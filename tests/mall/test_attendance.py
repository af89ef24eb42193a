"""Attendance: staff clock in and out (one open shift each), the shop and mall rooms hear it, and
who sees whose shifts."""

from __future__ import annotations

import asyncio

from tests.helpers import Api, User, connect, settle
from tests.mall.conftest import Mall


async def _shop_with_staff(api: Api, mall: Mall) -> tuple[dict, User, User]:
    shop = await api.created(
        "/v1/shops", {"mall_id": mall.id, "name": "Bean There", "shop_type": "cafe"}, mall.mall_admin
    )
    employee, manager = await api.signup("Kiran"), await api.signup("Manager")
    await api.grant(mall.mall_admin, manager, "shop_manager", "shop", shop["id"])
    await api.grant(manager, employee, "employee", "shop", shop["id"])
    return shop, employee, manager


async def test_a_clock_in_reaches_the_shop_and_mall_rooms_and_a_second_is_409(api: Api, server, mall: Mall) -> None:
    shop, employee, manager = await _shop_with_staff(api, mall)
    shop_room = await connect(server.url, manager.access_token)
    mall_room = await connect(server.url, mall.mall_admin.access_token)
    stranger = await connect(server.url, mall.shopper.access_token)
    try:
        assert (await shop_room.join("shop", shop["id"]))["ok"] is True
        assert (await mall_room.join("shop", shop["id"]))["ok"] is True, "a mall admin may join its shops' rooms"
        assert (await stranger.join("shop", shop["id"]))["ok"] is False
        shift = await api.created("/v1/attendance/clock-in", {"shop_id": shop["id"]}, employee)
        assert shift["clock_out_at"] is None and shift["user_name"] == "Kiran"
        (heard,) = await shop_room.wait_for("attendance_updated")
        assert heard["data"]["id"] == shift["id"]
        await mall_room.wait_for("attendance_updated")
        again = await api.post("/v1/attendance/clock-in", {"shop_id": shop["id"]}, employee)
        assert again.status_code == 409 and again.json()["error"]["details"]["shift_id"] == shift["id"]
        out = await api.post("/v1/attendance/clock-out", {}, employee)
        assert out.status_code == 200 and out.json()["minutes"] == 0 and out.json()["clock_out_at"]
        assert (await api.post("/v1/attendance/clock-out", {}, employee)).status_code == 409
        await settle()
        assert stranger.of("attendance_updated") == []
    finally:
        for listener in (shop_room, mall_room, stranger):
            await listener.close()


async def test_two_clock_ins_at_once_open_one_shift(api: Api, mall: Mall) -> None:
    shop, employee, _ = await _shop_with_staff(api, mall)
    results = await asyncio.gather(
        *(api.post("/v1/attendance/clock-in", {"shop_id": shop["id"]}, employee) for _ in range(4))
    )
    assert sorted(r.status_code for r in results) == [201, 409, 409, 409]


async def test_who_clocks_in_where(api: Api, mall: Mall) -> None:
    shop, employee, _ = await _shop_with_staff(api, mall)
    assert (await api.post("/v1/attendance/clock-in", {"shop_id": shop["id"]}, mall.shopper)).status_code == 403
    assert (await api.post("/v1/attendance/clock-in", {"mall_id": mall.id}, employee)).status_code == 403
    assert (await api.post("/v1/attendance/clock-in", {}, employee)).status_code == 422
    both = {"shop_id": shop["id"], "mall_id": mall.id}
    assert (await api.post("/v1/attendance/clock-in", both, employee)).status_code == 422
    guard = await api.post("/v1/attendance/clock-in", {"mall_id": mall.id}, mall.security)
    assert guard.status_code == 201 and guard.json()["shop_id"] is None


async def test_who_sees_whose_shifts(api: Api, mall: Mall) -> None:
    shop, employee, manager = await _shop_with_staff(api, mall)
    await api.created("/v1/attendance/clock-in", {"shop_id": shop["id"]}, employee)
    await api.post("/v1/attendance/clock-out", {}, employee)
    await api.created("/v1/attendance/clock-in", {"mall_id": mall.id}, mall.security)

    def ids(response) -> set[str]:
        assert response.status_code == 200, response.text
        return {s["user_id"] for s in response.json()["items"]}

    assert ids(await api.get("/v1/attendance", mall.mall_admin, params={"mall_id": mall.id})) == {
        employee.id,
        mall.security.id,
    }
    assert ids(await api.get("/v1/attendance", manager, params={"mall_id": mall.id})) == {employee.id}
    assert ids(await api.get("/v1/attendance", employee, params={"mall_id": mall.id})) == {employee.id}
    assert ids(await api.get("/v1/attendance", mall.shopper, params={"mall_id": mall.id})) == set()
    other = await api.get("/v1/attendance", employee, params={"mall_id": mall.id, "user_id": mall.security.id})
    assert other.status_code == 403
    backwards = await api.get(
        "/v1/attendance", mall.mall_admin, params={"mall_id": mall.id, "from": "2026-12-10", "to": "2026-12-01"}
    )
    assert backwards.status_code == 422
    long_ago = await api.get(
        "/v1/attendance", mall.mall_admin, params={"mall_id": mall.id, "from": "2001-01-01", "to": "2001-01-31"}
    )
    assert ids(long_ago) == set()
