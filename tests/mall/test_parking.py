"""Parking: security staff record cars in and out, the mall room hears it at once (and no one else),
a car is inside at most once, and leaving costs what the mall's tariff says."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest

from tests.helpers import Api, connect, refused, settle
from tests.mall.conftest import Mall


async def test_a_car_in_and_out_reaches_the_mall_room_only(api: Api, server, mall: Mall) -> None:
    staff = await connect(server.url, mall.security.access_token)
    outsider = await connect(server.url, mall.other_security.access_token)
    shopper = await connect(server.url, mall.shopper.access_token)
    try:
        assert (await staff.join("mall", mall.id))["ok"] is True
        assert (await outsider.join("mall", mall.other_id))["ok"] is True
        assert refused(await outsider.join("mall", mall.id)) == "forbidden"
        assert refused(await shopper.join("mall", mall.id)) == "forbidden"
        entered = await api.created(
            "/v1/car-visits",
            {"mall_id": mall.id, "plate": "ka-01 ab 1234", "section": "B2", "colour": "red"},
            mall.security,
        )
        assert entered["plate"] == "KA01AB1234" and entered["exited_at"] is None and entered["cost"] is None
        (event,) = await staff.wait_for("car_entered")
        assert event["room"] == f"mall:{mall.id}" and event["data"]["id"] == entered["id"]
        left = await api.post(f"/v1/car-visits/{entered['id']}/exit", {}, mall.security)
        assert left.status_code == 200 and left.json()["cost"] == 0, left.text  # inside the free minutes
        (event,) = await staff.wait_for("car_exited")
        assert event["data"]["cost"] == 0
        await settle()
        assert outsider.of("car_entered") == [] and shopper.of("car_entered") == []
    finally:
        for listener in (staff, outsider, shopper):
            await listener.close()


async def test_a_car_inside_cannot_enter_again_however_its_plate_is_written(api: Api, mall: Mall) -> None:
    first = await api.created(
        "/v1/car-visits", {"mall_id": mall.id, "plate": "MH12 AB 0001", "section": "A"}, mall.security
    )
    again = await api.post(
        "/v1/car-visits", {"mall_id": mall.id, "plate": "mh-12-ab-0001", "section": "C"}, mall.security
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_inside"
    assert again.json()["error"]["details"]["visit_id"] == first["id"]
    elsewhere = await api.post(
        "/v1/car-visits", {"mall_id": mall.other_id, "plate": "MH12AB0001", "section": "A"}, mall.other_security
    )
    assert elsewhere.status_code == 201, "another mall's parking is another place"
    out = await api.post("/v1/car-visits/exit", {"mall_id": mall.id, "plate": "mh12ab0001"}, mall.security)
    assert out.status_code == 200 and out.json()["id"] == first["id"]
    twice = await api.post("/v1/car-visits/exit", {"mall_id": mall.id, "plate": "MH12AB0001"}, mall.security)
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "not_inside"
    by_id = await api.post(f"/v1/car-visits/{first['id']}/exit", {}, mall.security)
    assert by_id.status_code == 409 and by_id.json()["error"]["code"] == "already_left"
    back = await api.post("/v1/car-visits", {"mall_id": mall.id, "plate": "MH12AB0001", "section": "A"}, mall.security)
    assert back.status_code == 201, "once out, the car may come back"


async def test_two_gates_letting_the_same_car_in_at_once_one_wins(api: Api, mall: Mall) -> None:
    body = {"mall_id": mall.id, "plate": f"RACE{uuid.uuid4().hex[:6]}", "section": "A"}
    results = await asyncio.gather(*(api.post("/v1/car-visits", body, mall.security) for _ in range(6)))
    assert sorted(r.status_code for r in results) == [201] + [409] * 5


async def test_only_the_malls_security_staff_record_or_read_its_parking(api: Api, mall: Mall) -> None:
    body = {"mall_id": mall.id, "plate": "DL3CAB1234", "section": "A"}
    for outsider in (mall.other_security, mall.shopper):
        assert (await api.post("/v1/car-visits", body, outsider)).status_code == 403
        assert (await api.get("/v1/car-visits", outsider, params={"mall_id": mall.id})).status_code == 403
    visit = await api.created("/v1/car-visits", body, mall.mall_admin)
    assert (await api.post(f"/v1/car-visits/{visit['id']}/exit", {}, mall.other_security)).status_code == 404
    assert (await api.post(f"/v1/car-visits/{uuid.uuid4()}/exit", {}, mall.security)).status_code == 404
    missing = await api.post("/v1/car-visits", {**body, "mall_id": str(uuid.uuid4())}, mall.security)
    assert missing.status_code == 403


@pytest.mark.parametrize("plate", ["A", "", "TOO-LONG-PLATE-NUMBER-123", "KA 01 ☃", "'; DROP TABLE car_visits;--"])
async def test_a_plate_that_is_no_plate_is_422(api: Api, mall: Mall, plate: str) -> None:
    response = await api.post("/v1/car-visits", {"mall_id": mall.id, "plate": plate, "section": "A"}, mall.security)
    assert response.status_code == 422
    assert "plate" in {d["field"] for d in response.json()["error"]["details"]}


async def test_lists_show_cars_inside_and_past_visits_by_plate(api: Api, mall: Mall) -> None:
    plates = [f"LS{uuid.uuid4().hex[:6].upper()}" for _ in range(3)]
    visits = [
        await api.created("/v1/car-visits", {"mall_id": mall.id, "plate": p, "section": "A"}, mall.security)
        for p in plates
    ]
    await api.post(f"/v1/car-visits/{visits[0]['id']}/exit", {}, mall.security)
    inside = await api.get("/v1/car-visits", mall.security, params={"mall_id": mall.id, "inside": "true"})
    ids = [v["id"] for v in inside.json()["items"]]
    assert visits[1]["id"] in ids and visits[2]["id"] in ids and visits[0]["id"] not in ids
    by_plate = await api.get("/v1/car-visits", mall.security, params={"mall_id": mall.id, "plate": plates[0].lower()})
    assert [v["id"] for v in by_plate.json()["items"]] == [visits[0]["id"]]
    first_page = await api.get("/v1/car-visits", mall.security, params={"mall_id": mall.id, "limit": 1})
    assert first_page.json()["next_cursor"] is not None
    later = await api.get("/v1/car-visits", mall.security, params={"mall_id": mall.id, "from": "2199-01-01T00:00:00Z"})
    assert later.json()["items"] == []


@pytest.mark.parametrize(
    ("stay", "free", "hourly", "cap", "cost"),
    [
        (dt.timedelta(minutes=15), 15, 4000, 30000, 0),
        (dt.timedelta(minutes=16), 15, 4000, 30000, 4000),
        (dt.timedelta(minutes=61), 15, 4000, 30000, 8000),
        (dt.timedelta(hours=10), 15, 4000, 30000, 30000),
        (dt.timedelta(hours=25), 15, 4000, 30000, 34000),
        (dt.timedelta(hours=25), 15, 4000, None, 100000),
        (dt.timedelta(days=2), 0, 100, 1000, 2000),
    ],
)
async def test_the_tariff(db, stay: dt.timedelta, free: int, hourly: int, cap: int | None, cost: int) -> None:
    entered = dt.datetime(2026, 11, 29, 9, tzinfo=dt.UTC)
    async with db.connection() as conn:
        assert (
            await conn.fetchval("SELECT parking_cost($1, $2, $3, $4, $5)", entered, entered + stay, free, hourly, cap)
            == cost
        )


async def test_a_car_that_stayed_pays_by_the_started_hour(api: Api, mall: Mall, db) -> None:
    visit = await api.created(
        "/v1/car-visits", {"mall_id": mall.id, "plate": "TN09ZZ0099", "section": "A"}, mall.security
    )
    async with db.connection() as conn:  # it came in 90 minutes ago
        await conn.execute(
            "UPDATE car_visits SET entered_at = now() - interval '90 minutes' WHERE id = $1", visit["id"]
        )
    left = await api.post(f"/v1/car-visits/{visit['id']}/exit", {}, mall.security)
    assert left.json()["cost"] == 8000 and left.json()["currency"] == "INR"


async def test_a_retried_entry_with_its_key_is_the_same_entry(api: Api, mall: Mall) -> None:
    body = {"mall_id": mall.id, "plate": f"IK{uuid.uuid4().hex[:6]}", "section": "A"}
    headers = {"idempotency-key": f"gate-1-{uuid.uuid4()}"}
    first = await api.post("/v1/car-visits", body, mall.security, headers=headers)
    retry = await api.post("/v1/car-visits", body, mall.security, headers=headers)
    assert first.status_code == retry.status_code == 201 and first.json()["id"] == retry.json()["id"]
    without = await api.post("/v1/car-visits", body, mall.security)
    assert without.status_code == 409, "a new attempt without the key is a second entry"


async def test_a_day_of_parking_counts_cars_and_revenue(api: Api, mall: Mall, db) -> None:
    plates = [f"DY{uuid.uuid4().hex[:6]}" for _ in range(3)]
    visits = [
        await api.created("/v1/car-visits", {"mall_id": mall.id, "plate": p, "section": "A"}, mall.security)
        for p in plates
    ]
    async with db.connection() as conn:  # one of them came in 90 minutes ago: 2 started hours at 4000
        await conn.execute(
            "UPDATE car_visits SET entered_at = now() - interval '90 minutes' WHERE id = $1", visits[0]["id"]
        )
    await api.post(f"/v1/car-visits/{visits[0]['id']}/exit", {}, mall.security)
    today = await api.get("/v1/car-visits/day", mall.security, params={"mall_id": mall.id})
    assert today.status_code == 200, today.text
    body = today.json()
    assert (body["inside_now"], body["exits"], body["revenue"], body["currency"]) == (2, 1, 8000, "INR")
    assert body["entries"] in (2, 3), "the early one may have come in yesterday on the mall's clock"
    long_ago = await api.get("/v1/car-visits/day", mall.security, params={"mall_id": mall.id, "date": "2001-01-01"})
    assert (long_ago.json()["entries"], long_ago.json()["revenue"]) == (0, 0)
    assert (await api.get("/v1/car-visits/day", mall.shopper, params={"mall_id": mall.id})).status_code == 403
