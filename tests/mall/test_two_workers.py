"""The mall's live events across two server processes: each write goes to one worker, its listeners sit
on the other, and the events reach exactly the rooms (and the people) they are for."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.helpers import Api, User, connect, settle
from tests.mall.conftest import Mall
from tests.realtime.conftest import Worker, start_workers, stop_workers


@pytest.fixture(scope="module")
async def pair(settings) -> AsyncIterator[tuple[Api, Worker]]:
    """An API client on the first worker, and the second worker for the listeners."""
    workers = await start_workers(settings, 2)
    try:
        async with httpx.AsyncClient(base_url=workers[0].url, timeout=15) as client:
            yield Api(client, workers[0].url), workers[1]
    finally:
        stop_workers(workers)


async def _employee(api: Api, mall: Mall, name: str) -> tuple[dict, User]:
    shop = await api.created(
        "/v1/shops", {"mall_id": mall.id, "name": f"{name}'s counter", "shop_type": "retail"}, mall.mall_admin
    )
    employee = await api.signup(name)
    await api.grant(mall.mall_admin, employee, "employee", "shop", shop["id"])
    return shop, await api.login(employee.email)


async def test_a_car_entering_reaches_its_mall_room_and_nobody_else(pair, mall: Mall) -> None:
    api, other = pair
    inside = await connect(other.url, mall.mall_admin.access_token)
    next_door = await connect(other.url, mall.other_security.access_token)
    shopper = await connect(other.url, mall.shopper.access_token)
    try:
        assert (await inside.join("mall", mall.id))["ok"] is True
        assert (await next_door.join("mall", mall.other_id))["ok"] is True
        assert (await shopper.join("mall", mall.id))["ok"] is False
        visit = await api.created(
            "/v1/car-visits", {"mall_id": mall.id, "plate": "KA 05 TW 2", "section": "A"}, mall.security
        )
        (heard,) = await inside.wait_for("car_entered")
        assert heard["data"]["id"] == visit["id"] and heard["data"]["plate"] == "KA05TW2"
        await settle()
        assert next_door.of("car_entered") == [] and shopper.of("car_entered") == []
    finally:
        for listener in (inside, next_door, shopper):
            await listener.close()


async def test_a_cameras_detection_reaches_the_mall_room_once(pair, mall: Mall) -> None:
    api, other = pair
    key = (await api.created(f"/v1/malls/{mall.id}/api-keys", {"name": "Atrium camera"}, mall.mall_admin))["key"]
    staff = await connect(other.url, mall.security.access_token)
    try:
        assert (await staff.join("mall", mall.id))["ok"] is True
        detection = {"issue_type": "spill", "details": "Liquid by the fountain", "location": "Atrium"}
        answers = [
            await api.client.post("/v1/model-issues", json=detection, headers={"x-api-key": key}) for _ in range(3)
        ]
        assert [a.status_code for a in answers] == [201, 200, 200]
        assert answers[-1].json()["detections"] == 3
        (heard,) = await staff.wait_for("model_issue_detected")
        await settle()
        assert len(staff.of("model_issue_detected")) == 1
        assert heard["data"]["id"] == answers[0].json()["id"]
    finally:
        await staff.close()


async def test_an_assignment_reaches_only_that_employee(pair, mall: Mall) -> None:
    api, other = pair
    _, chosen = await _employee(api, mall, "Chosen")
    _, colleague = await _employee(api, mall, "Colleague")
    chosen_phone = await connect(other.url, chosen.access_token)
    colleague_phone = await connect(other.url, colleague.access_token)
    try:
        issue = await api.created(
            "/v1/issues", {"mall_id": mall.id, "issue_type": "lift", "details": "Lift 2 stuck"}, mall.shopper
        )
        assigned = await api.post(f"/v1/issues/{issue['id']}/assign", {"user_ids": [chosen.id]}, mall.security)
        assert assigned.status_code == 200, assigned.text
        (heard,) = await chosen_phone.wait_for("issue_assigned")
        assert heard["data"]["id"] == issue["id"] and heard["data"]["state"] == "assigned"
        await settle()
        assert colleague_phone.of("issue_assigned") == []
    finally:
        await chosen_phone.close()
        await colleague_phone.close()


async def test_a_clock_in_reaches_the_shop_room(pair, mall: Mall) -> None:
    api, other = pair
    shop, employee = await _employee(api, mall, "Punctual")
    _, elsewhere = await _employee(api, mall, "Elsewhere")
    manager = await api.signup("Shop Manager")
    await api.grant(mall.mall_admin, manager, "shop_manager", "shop", shop["id"])
    manager = await api.login(manager.email)
    board = await connect(other.url, manager.access_token)
    stranger = await connect(other.url, elsewhere.access_token)
    try:
        assert (await board.join("shop", shop["id"]))["ok"] is True
        assert (await stranger.join("shop", shop["id"]))["ok"] is False
        shift = await api.created("/v1/attendance/clock-in", {"shop_id": shop["id"]}, employee)
        (heard,) = await board.wait_for("attendance_updated")
        assert heard["data"]["id"] == shift["id"]
        await settle()
        assert stranger.of("attendance_updated") == []
    finally:
        await board.close()
        await stranger.close()
