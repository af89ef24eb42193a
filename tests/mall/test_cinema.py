"""Cinemas, movies and showings, and tickets that are never oversold."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

from tests.helpers import Api, User, connect
from tests.mall.conftest import Mall


def _at(hours: float) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours)).isoformat()


async def _showing(api: Api, mall: Mall, seats: int = 100, hours: float = 3) -> dict:
    cinema = await api.created(
        "/v1/cinemas", {"mall_id": mall.id, "name": f"Screen {uuid.uuid4().hex[:4]}"}, mall.mall_admin
    )
    movie = await api.created(
        "/v1/movies",
        {"mall_id": mall.id, "name": f"Movie {uuid.uuid4().hex[:6]}", "duration_minutes": 120, "ticket_price": 25000},
        mall.mall_admin,
    )
    return await api.created(
        "/v1/showings",
        {"cinema_id": cinema["id"], "movie_id": movie["id"], "starts_at": _at(hours), "seats": seats},
        mall.mall_admin,
    )


async def test_a_mall_admin_schedules_and_anyone_sees_whats_on(api: Api, mall: Mall) -> None:
    showing = await _showing(api, mall, seats=80)
    assert showing["seats_left"] == 80 and showing["ticket_price"] == 25000 and showing["currency"] == "INR"
    today = await api.get("/v1/showings", mall.shopper, params={"mall_id": mall.id, "cinema_id": showing["cinema_id"]})
    day = dt.datetime.fromisoformat(showing["starts_at"]).astimezone(dt.timezone(dt.timedelta(hours=5, minutes=30)))
    on_its_day = await api.get(
        "/v1/showings", mall.shopper, params={"mall_id": mall.id, "date": day.date().isoformat()}
    )
    assert showing["id"] in [s["id"] for s in on_its_day.json()["items"]]
    assert today.status_code == 200
    cinemas = await api.get("/v1/cinemas", mall.shopper, params={"mall_id": mall.id})
    assert showing["cinema_id"] in [c["id"] for c in cinemas.json()["items"]]
    assert {c["shop_type"] for c in cinemas.json()["items"]} == {"cinema"}
    again = await api.post(
        "/v1/showings",
        {
            "cinema_id": showing["cinema_id"],
            "movie_id": showing["movie_id"],
            "starts_at": showing["starts_at"],
            "seats": 5,
        },
        mall.mall_admin,
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "duplicate_showing"


async def test_only_the_malls_admins_schedule(api: Api, admin: User, mall: Mall) -> None:
    showing = await _showing(api, mall)
    body = {"cinema_id": showing["cinema_id"], "movie_id": showing["movie_id"], "starts_at": _at(30), "seats": 5}
    for outsider in (mall.security, mall.shopper):
        assert (await api.post("/v1/showings", body, outsider)).status_code == 403
    shop = await api.created(
        "/v1/shops", {"mall_id": mall.id, "name": "Not a cinema", "shop_type": "retail"}, mall.mall_admin
    )
    assert (await api.post("/v1/showings", {**body, "cinema_id": shop["id"]}, mall.mall_admin)).status_code == 404
    other_movie = await api.created(
        "/v1/movies",
        {"mall_id": mall.other_id, "name": "Elsewhere", "duration_minutes": 90, "ticket_price": 100},
        admin,
    )
    assert (await api.post("/v1/showings", {**body, "movie_id": other_movie["id"]}, mall.mall_admin)).status_code == 404
    for bad in ({**body, "seats": 0}, {**body, "seats": "5"}, {**body, "starts_at": "tomorrow"}):
        assert (await api.post("/v1/showings", bad, mall.mall_admin)).status_code == 422
    for bad_movie in ({"duration_minutes": 0}, {"ticket_price": -1}, {"duration_minutes": 1.5}):
        movie = {"mall_id": mall.id, "name": "Bad", "duration_minutes": 90, "ticket_price": 100, **bad_movie}
        assert (await api.post("/v1/movies", movie, mall.mall_admin)).status_code == 422


async def test_buying_tickets_charges_the_showings_price_and_tells_buyer_and_mall(api: Api, server, mall: Mall) -> None:
    showing = await _showing(api, mall, seats=10)
    buyer = await connect(server.url, mall.shopper.access_token)
    staff = await connect(server.url, mall.mall_admin.access_token)
    try:
        assert (await staff.join("mall", mall.id))["ok"] is True
        bought = await api.created("/v1/ticket-checkouts", {"showing_id": showing["id"], "tickets": 3}, mall.shopper)
        assert (bought["tickets"], bought["unit_price"], bought["total"]) == (3, 25000, 75000)
        assert bought["showing"]["seats_left"] == 7
        (mine,) = await buyer.wait_for("ticket_checkout")
        assert mine["data"]["id"] == bought["id"]
        seats = await staff.wait_for("showing_updated")
        assert seats[-1]["data"]["seats_left"] == 7
    finally:
        await buyer.close()
        await staff.close()
    listed = await api.get("/v1/ticket-checkouts", mall.shopper)
    assert listed.json()["items"][0]["id"] == bought["id"]
    assert (await api.get("/v1/ticket-checkouts", mall.security)).json()["items"] == []
    too_many = await api.post("/v1/ticket-checkouts", {"showing_id": showing["id"], "tickets": 8}, mall.shopper)
    assert too_many.status_code == 409 and too_many.json()["error"]["details"] == {"seats_left": 7}
    for bad in ({"showing_id": showing["id"], "tickets": 0}, {"showing_id": showing["id"], "tickets": -2}):
        assert (await api.post("/v1/ticket-checkouts", bad, mall.shopper)).status_code == 422
    missing = await api.post("/v1/ticket-checkouts", {"showing_id": str(uuid.uuid4()), "tickets": 1}, mall.shopper)
    assert missing.status_code == 404


async def test_two_buyers_of_the_last_seats_one_gets_them(api: Api, mall: Mall) -> None:
    showing = await _showing(api, mall, seats=4)
    buyers = [await api.signup(f"Buyer {i}") for i in range(5)]
    results = await asyncio.gather(
        *(api.post("/v1/ticket-checkouts", {"showing_id": showing["id"], "tickets": 2}, b) for b in buyers)
    )
    assert sorted(r.status_code for r in results) == [201, 201, 409, 409, 409]
    assert (await api.get(f"/v1/showings/{showing['id']}", mall.shopper)).json()["seats_left"] == 0


async def test_a_retried_purchase_is_one_purchase(api: Api, mall: Mall) -> None:
    showing = await _showing(api, mall, seats=10)
    body = {"showing_id": showing["id"], "tickets": 2}
    headers = {"idempotency-key": f"buy-{uuid.uuid4()}"}
    first, second = await asyncio.gather(
        api.post("/v1/ticket-checkouts", body, mall.shopper, headers=headers),
        api.post("/v1/ticket-checkouts", body, mall.shopper, headers=headers),
    )
    assert first.status_code == second.status_code == 201 and first.json()["id"] == second.json()["id"]
    assert (await api.get(f"/v1/showings/{showing['id']}", mall.shopper)).json()["seats_left"] == 8
    other = await api.post("/v1/ticket-checkouts", {**body, "tickets": 3}, mall.shopper, headers=headers)
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"


async def test_a_showing_that_started_sells_nothing(api: Api, mall: Mall, db) -> None:
    showing = await _showing(api, mall, seats=10)
    async with db.connection() as conn:
        await conn.execute("UPDATE showings SET starts_at = now() - interval '5 minutes' WHERE id = $1", showing["id"])
    late = await api.post("/v1/ticket-checkouts", {"showing_id": showing["id"], "tickets": 1}, mall.shopper)
    assert late.status_code == 409 and late.json()["error"]["code"] == "sold_out"


async def _patch(api: Api, path: str, body: dict, user: User):
    return await api.client.patch(path, json=body, headers=user.headers)


async def test_the_programme_changes_and_the_mall_hears_of_it(api: Api, server, mall: Mall) -> None:
    showing = await _showing(api, mall, seats=10)
    cinema_path, movie_path = f"/v1/cinemas/{showing['cinema_id']}", f"/v1/movies/{showing['movie_id']}"
    renamed = await _patch(api, cinema_path, {"name": "Screen Gold", "floor": 3}, mall.mall_admin)
    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["name"], renamed.json()["floor"], renamed.json()["shop_type"]) == (
        "Screen Gold",
        3,
        "cinema",
    )
    assert (await _patch(api, cinema_path, {"shop_type": "retail"}, mall.mall_admin)).json()["shop_type"] == "cinema"

    repriced = await _patch(api, movie_path, {"ticket_price": 30000, "genre": None}, mall.mall_admin)
    assert repriced.status_code == 200 and repriced.json()["ticket_price"] == 30000 and repriced.json()["genre"] is None
    kept = (await api.get(f"/v1/showings/{showing['id']}", mall.shopper)).json()
    assert kept["ticket_price"] == 25000, "a scheduled showing keeps the price it was scheduled at"

    await api.post("/v1/ticket-checkouts", {"showing_id": showing["id"], "tickets": 4}, mall.shopper)
    room = await connect(server.url, mall.security.access_token)
    try:
        assert (await room.join("mall", mall.id))["ok"] is True
        later = (dt.datetime.fromisoformat(showing["starts_at"]) + dt.timedelta(hours=1)).isoformat()
        moved = await _patch(api, f"/v1/showings/{showing['id']}", {"starts_at": later, "seats": 6}, mall.mall_admin)
        assert moved.status_code == 200, moved.text
        assert (moved.json()["seats"], moved.json()["seats_left"]) == (6, 2)
        (heard,) = await room.wait_for("showing_updated")
        assert heard["data"]["starts_at"] == moved.json()["starts_at"]
    finally:
        await room.close()
    too_few = await _patch(api, f"/v1/showings/{showing['id']}", {"seats": 3}, mall.mall_admin)
    assert too_few.status_code == 409 and too_few.json()["error"]["details"] == {"seats_sold": 4}


async def test_only_the_malls_admins_change_the_programme(api: Api, mall: Mall) -> None:
    showing = await _showing(api, mall)
    other = await _showing(api, mall)
    for user in (mall.security, mall.shopper):
        assert (await _patch(api, f"/v1/movies/{showing['movie_id']}", {"name": "Mine"}, user)).status_code == 403
        assert (await _patch(api, f"/v1/showings/{showing['id']}", {"seats": 9}, user)).status_code == 403
        assert (await _patch(api, f"/v1/cinemas/{showing['cinema_id']}", {"name": "Mine"}, user)).status_code == 403
    other_movie = (await api.get(f"/v1/movies/{other['movie_id']}", mall.shopper)).json()
    clash = await _patch(api, f"/v1/movies/{showing['movie_id']}", {"name": other_movie["name"]}, mall.mall_admin)
    assert clash.status_code == 409 and clash.json()["error"]["code"] == "duplicate_name"
    for body in ({"name": None}, {"duration_minutes": 0}, {"ticket_price": -1}, {"image_url": "ftp://x"}):
        assert (await _patch(api, f"/v1/movies/{showing['movie_id']}", body, mall.mall_admin)).status_code == 422
    assert (await _patch(api, f"/v1/showings/{showing['id']}", {"seats": None}, mall.mall_admin)).status_code == 422
    shop = await api.created(
        "/v1/shops", {"mall_id": mall.id, "name": "Not A Cinema", "shop_type": "retail"}, mall.mall_admin
    )
    assert (
        await _patch(api, f"/v1/cinemas/{shop['id']}", {"name": "Now A Cinema"}, mall.mall_admin)
    ).status_code == 404
    assert (await api.client.delete(f"/v1/cinemas/{shop['id']}", headers=mall.mall_admin.headers)).status_code == 404
    gone = await api.client.delete(f"/v1/cinemas/{showing['cinema_id']}", headers=mall.mall_admin.headers)
    assert gone.status_code == 204
    assert (await api.get(f"/v1/showings/{showing['id']}", mall.shopper)).status_code == 404, "its showings went too"
