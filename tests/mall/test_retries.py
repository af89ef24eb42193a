"""Retries: each write a mall's apps may resend after a lost answer takes an Idempotency-Key and answers
the resend as it answered the first time, writing nothing more and telling no room twice."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import httpx

from tests.helpers import Api, User, connect, settle
from tests.mall.conftest import Mall


async def _twice(api: Api, path: str, body: Any, user: User) -> tuple[httpx.Response, httpx.Response, dict]:
    headers = {"idempotency-key": str(uuid.uuid4())}
    first = await api.post(path, body, user, headers=headers)
    retry = await api.post(path, body, user, headers=headers)
    assert first.status_code < 300, first.text
    assert retry.status_code == first.status_code
    assert retry.json() == first.json()
    return first, retry, headers


async def test_a_shift_retried_on_the_way_in_and_out_is_one_shift(api: Api, server, mall: Mall) -> None:
    shop = await api.created(
        "/v1/shops", {"mall_id": mall.id, "name": "Retry Cafe", "shop_type": "cafe"}, mall.mall_admin
    )
    employee = await api.signup("Flaky Network")
    await api.grant(mall.mall_admin, employee, "employee", "shop", shop["id"])
    room = await connect(server.url, mall.mall_admin.access_token)
    try:
        assert (await room.join("shop", shop["id"]))["ok"] is True
        clock_in, _, _ = await _twice(api, "/v1/attendance/clock-in", {"shop_id": shop["id"]}, employee)
        assert clock_in.status_code == 201
        clock_out, _, _ = await _twice(api, "/v1/attendance/clock-out", {}, employee)
        assert clock_out.json()["id"] == clock_in.json()["id"] and clock_out.json()["clock_out_at"]
        await settle()
        assert len(room.of("attendance_updated")) == 2, "one event in, one out: the retries told no one"
    finally:
        await room.close()
    shifts = await api.get("/v1/attendance", employee, params={"mall_id": mall.id, "shop_id": shop["id"]})
    assert shifts.status_code == 200, shifts.text
    assert [s["id"] for s in shifts.json()["items"]] == [clock_in.json()["id"]]
    assert (await api.post("/v1/attendance/clock-out", {}, employee)).status_code == 409, "without the key: 409"


async def test_a_report_and_a_move_retried_are_done_once(api: Api, mall: Mall) -> None:
    body = {"mall_id": mall.id, "issue_type": "leak", "details": f"Drip {uuid.uuid4().hex[:6]}", "location": "L2"}
    reported, _, _ = await _twice(api, "/v1/issues", body, mall.shopper)
    mine = await api.get("/v1/issues", mall.shopper, params={"mall_id": mall.id})
    assert [i["id"] for i in mine.json()["items"] if i["details"] == body["details"]] == [reported.json()["id"]]

    path = f"/v1/issues/{reported.json()['id']}/move"
    moved, _, _ = await _twice(api, path, {"to": "in_progress"}, mall.security)
    assert moved.json()["state"] == "in_progress"
    history = (await api.get(f"/v1/issues/{reported.json()['id']}", mall.security)).json()["history"]
    assert [h["to_state"] for h in history].count("in_progress") == 1
    again = await api.post(path, {"to": "in_progress"}, mall.security)
    assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_move"


async def test_a_car_leaving_twice_on_a_retry_pays_once(api: Api, mall: Mall) -> None:
    plate = f"RT{uuid.uuid4().hex[:6]}"
    visit = await api.created("/v1/car-visits", {"mall_id": mall.id, "plate": plate, "section": "B"}, mall.security)
    left, _, _ = await _twice(api, "/v1/car-visits/exit", {"mall_id": mall.id, "plate": plate}, mall.security)
    assert left.json()["id"] == visit["id"] and left.json()["exited_at"]
    again = await api.post(f"/v1/car-visits/{visit['id']}/exit", {}, mall.security)
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_left"


async def test_creates_retried_are_one_thing_each(api: Api, admin: User, mall: Mall) -> None:
    made, _, _ = await _twice(
        api, "/v1/malls", {"name": f"Retry Mall {uuid.uuid4().hex[:6]}", "timezone": "UTC"}, admin
    )
    shop_body = {"mall_id": mall.id, "name": f"Retry Shop {uuid.uuid4().hex[:6]}", "shop_type": "retail"}
    shop, _, _ = await _twice(api, "/v1/shops", shop_body, mall.mall_admin)
    assert (await api.post("/v1/shops", shop_body, mall.mall_admin)).status_code == 409, "a new attempt: duplicate"
    start, end = dt.datetime.now(dt.UTC), dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    offer_body = {
        "mall_id": mall.id,
        "title": "Retried",
        "discount_percent": 10,
        "starts_at": start.isoformat(),
        "ends_at": end.isoformat(),
        "shop_ids": [shop.json()["id"]],
    }
    await _twice(api, "/v1/offers", offer_body, mall.mall_admin)
    offers = await api.get("/v1/offers", mall.shopper, params={"mall_id": mall.id, "shop_id": shop.json()["id"]})
    assert len(offers.json()["items"]) == 1
    cinema, _, _ = await _twice(
        api, "/v1/cinemas", {"mall_id": mall.id, "name": f"Screens {uuid.uuid4().hex[:4]}"}, mall.mall_admin
    )
    movie_body = {
        "mall_id": mall.id,
        "name": f"Retry {uuid.uuid4().hex[:4]}",
        "duration_minutes": 100,
        "ticket_price": 25000,
    }
    movie, _, _ = await _twice(api, "/v1/movies", movie_body, mall.mall_admin)
    showing_body = {
        "cinema_id": cinema.json()["id"],
        "movie_id": movie.json()["id"],
        "starts_at": (start + dt.timedelta(hours=3)).isoformat(),
        "seats": 40,
    }
    await _twice(api, "/v1/showings", showing_body, mall.mall_admin)
    assert made.json()["name"].startswith("Retry Mall")


async def test_keys_belong_to_one_user_one_path_one_body(api: Api, mall: Mall) -> None:
    key = {"idempotency-key": f"shared-{uuid.uuid4()}"}
    body = {"mall_id": mall.id, "issue_type": "noise", "details": "Loud fan"}
    mine = await api.post("/v1/issues", body, mall.shopper, headers=key)
    theirs = await api.post("/v1/issues", body, mall.security, headers=key)
    assert mine.status_code == theirs.status_code == 201 and mine.json()["id"] != theirs.json()["id"]
    other_path = await api.post(
        "/v1/car-visits", {"mall_id": mall.id, "plate": "KEY1", "section": "A"}, mall.security, headers=key
    )
    assert other_path.status_code == 201, "the same key on another path is another key"
    reused = await api.post("/v1/issues", {**body, "details": "Another"}, mall.shopper, headers=key)
    assert reused.status_code == 422 and reused.json()["error"]["code"] == "idempotency_key_reused"
    for bad in (b"", b"x" * 201, b"has space", "café".encode()):
        answer = await api.client.post(
            "/v1/issues", json=body, headers={**mall.shopper.headers, "idempotency-key": bad}
        )
        assert answer.status_code == 400, bad
        assert answer.json()["error"]["code"] == "invalid_idempotency_key"


async def test_a_retry_racing_its_first_attempt_waits_for_its_answer(api: Api, mall: Mall) -> None:
    key = {"idempotency-key": str(uuid.uuid4())}
    body = {"mall_id": mall.id, "plate": f"RC{uuid.uuid4().hex[:6]}", "section": "C"}
    answers = await asyncio.gather(*(api.post("/v1/car-visits", body, mall.security, headers=key) for _ in range(4)))
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 1
