"""The cars a mall's parking knows, and an admin's corrections of a visit: a car entering adds itself to
the registry, a car inside cannot be forgotten, and a corrected visit is charged again for its times,
heard in the mall room and kept in the audit."""

from __future__ import annotations

import datetime as dt

from tests.helpers import Api, connect
from tests.mall.conftest import Mall


def _ago(**delta: float) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(**delta)).isoformat()


async def test_a_car_entering_joins_the_registry_and_keeps_its_colour(api: Api, mall: Mall) -> None:
    entered = await api.created(
        "/v1/car-visits",
        {"mall_id": mall.id, "plate": "KA 05 MX 7788", "section": "A", "colour": "blue"},
        mall.security,
    )
    listed = await api.get("/v1/cars", mall.security, params={"mall_id": mall.id, "plate": "ka05"})
    assert listed.status_code == 200, listed.text
    (car,) = listed.json()["items"]
    assert car["plate"] == "KA05MX7788" and car["colour"] == "blue" and car["inside_visit_id"] == entered["id"]
    out = await api.post(f"/v1/car-visits/{entered['id']}/exit", {}, mall.security)
    assert out.status_code == 200
    again = await api.created(
        "/v1/car-visits", {"mall_id": mall.id, "plate": "KA05MX7788", "section": "B"}, mall.security
    )
    assert again["colour"] == "blue", "a guard who gives no colour gets the one the registry knows"
    fetched = await api.get(f"/v1/cars/{car['id']}", mall.security)
    assert fetched.json()["inside_visit_id"] == again["id"] and fetched.json()["last_seen_at"] is not None


async def test_the_registry_is_added_to_changed_and_forgotten_by_security(api: Api, mall: Mall) -> None:
    car = await api.created(
        "/v1/cars", {"mall_id": mall.id, "plate": "mh-01-zz-0001", "note": "the cafe owner's"}, mall.security
    )
    assert car["plate"] == "MH01ZZ0001" and car["inside_visit_id"] is None
    twice = await api.post("/v1/cars", {"mall_id": mall.id, "plate": "MH01ZZ0001"}, mall.security)
    assert twice.status_code == 409 and twice.json()["error"]["details"]["car_id"] == car["id"]
    changed = await api.client.patch(
        f"/v1/cars/{car['id']}", json={"colour": "white", "note": None}, headers=mall.security.headers
    )
    assert changed.status_code == 200 and changed.json()["colour"] == "white" and changed.json()["note"] is None
    visit = await api.created(
        "/v1/car-visits", {"mall_id": mall.id, "plate": "MH01ZZ0001", "section": "C"}, mall.security
    )
    assert visit["colour"] == "white"
    inside = await api.client.delete(f"/v1/cars/{car['id']}", headers=mall.security.headers)
    assert inside.status_code == 409 and inside.json()["error"]["code"] == "car_inside"
    await api.post(f"/v1/car-visits/{visit['id']}/exit", {}, mall.security)
    gone = await api.client.delete(f"/v1/cars/{car['id']}", headers=mall.security.headers)
    assert gone.status_code == 204
    assert (await api.get(f"/v1/cars/{car['id']}", mall.security)).status_code == 404
    history = await api.get("/v1/car-visits", mall.security, params={"mall_id": mall.id, "plate": "MH01ZZ0001"})
    assert [v["id"] for v in history.json()["items"]] == [visit["id"]], "its visits stay"
    log = await api.get("/v1/audit", mall.mall_admin, params={"scope_type": "mall", "scope_id": mall.id})
    actions = {row["action"] for row in log.json()["items"] if row["resource_id"] == car["id"]}
    assert actions == {"car.added", "car.updated", "car.removed"}


async def test_the_registry_pages_by_plate(api: Api, mall: Mall) -> None:
    for plate in ("PG03", "PG01", "PG02", "QQ01"):
        await api.created("/v1/cars", {"mall_id": mall.id, "plate": plate}, mall.security)
    first = await api.get("/v1/cars", mall.security, params={"mall_id": mall.id, "plate": "pg", "limit": 2})
    assert [c["plate"] for c in first.json()["items"]] == ["PG01", "PG02"]
    rest = await api.get(
        "/v1/cars",
        mall.security,
        params={"mall_id": mall.id, "plate": "pg", "limit": 2, "cursor": first.json()["next_cursor"]},
    )
    assert [c["plate"] for c in rest.json()["items"]] == ["PG03"] and rest.json()["next_cursor"] is None


async def test_other_malls_and_shoppers_see_no_car(api: Api, mall: Mall) -> None:
    car = await api.created("/v1/cars", {"mall_id": mall.id, "plate": "TN22AA0001"}, mall.security)
    for outsider in (mall.other_security, mall.shopper):
        assert (await api.get(f"/v1/cars/{car['id']}", outsider)).status_code == 404
        assert (await api.get("/v1/cars", outsider, params={"mall_id": mall.id})).status_code == 403
        assert (await api.post("/v1/cars", {"mall_id": mall.id, "plate": "TN22AA0002"}, outsider)).status_code == 403
        patch = await api.client.patch(f"/v1/cars/{car['id']}", json={"note": "x"}, headers=outsider.headers)
        assert patch.status_code == 404
        assert (await api.client.delete(f"/v1/cars/{car['id']}", headers=outsider.headers)).status_code == 404


async def test_bad_plates_and_fields_are_refused(api: Api, mall: Mall) -> None:
    for body in (
        {"mall_id": mall.id, "plate": "K"},
        {"mall_id": mall.id, "plate": "KA01'; DROP TABLE cars; --"},
        {"mall_id": mall.id, "plate": "KA0101", "note": "x" * 501},
        {"mall_id": mall.id, "plate": 1234},
        {"plate": "KA0101"},
    ):
        response = await api.post("/v1/cars", body, mall.security)
        assert response.status_code == 422, (body, response.text)
    bad_prefix = await api.get("/v1/cars", mall.security, params={"mall_id": mall.id, "plate": "KA%"})
    assert bad_prefix.status_code == 422
    bad_cursor = await api.get("/v1/cars", mall.security, params={"mall_id": mall.id, "cursor": "nonsense"})
    assert bad_cursor.status_code == 422


async def test_an_admin_corrects_a_visit_and_it_is_charged_again(api: Api, server, mall: Mall) -> None:
    """The tariff: 15 free minutes, 40.00 an hour, 300.00 a day at most."""
    visit = await api.created(
        "/v1/car-visits", {"mall_id": mall.id, "plate": "GJ01CC1111", "section": "A"}, mall.security
    )
    left = (await api.post(f"/v1/car-visits/{visit['id']}/exit", {}, mall.security)).json()
    assert left["cost"] == 0
    staff = await connect(server.url, mall.security.access_token)
    try:
        await staff.join("mall", mall.id)
        patch = {"entered_at": _ago(hours=3), "plate": "GJ01CC1112", "section": "B"}
        refused = await api.client.patch(f"/v1/car-visits/{visit['id']}", json=patch, headers=mall.security.headers)
        assert refused.status_code == 403, "security records visits; only admins correct them"
        corrected = await api.client.patch(f"/v1/car-visits/{visit['id']}", json=patch, headers=mall.mall_admin.headers)
        assert corrected.status_code == 200, corrected.text
        body = corrected.json()
        assert body["plate"] == "GJ01CC1112" and body["section"] == "B" and body["cost"] == 3 * 4000
        (event,) = await staff.wait_for("car_visit_corrected")
        assert event["data"]["id"] == visit["id"] and event["data"]["cost"] == 12000
    finally:
        await staff.close()
    fetched = await api.get(f"/v1/car-visits/{visit['id']}", mall.security)
    assert fetched.json()["cost"] == 12000
    cars = await api.get("/v1/cars", mall.security, params={"mall_id": mall.id, "plate": "GJ01CC111"})
    assert {c["plate"] for c in cars.json()["items"]} == {"GJ01CC1111", "GJ01CC1112"}
    log = await api.get("/v1/audit", mall.mall_admin, params={"scope_type": "mall", "scope_id": mall.id})
    (row,) = [r for r in log.json()["items"] if r["action"] == "car_visit.corrected"]
    assert row["details"]["before"]["plate"] == "GJ01CC1111" and row["details"]["after"]["section"] == "B"


async def test_a_correction_that_cannot_be_true_is_refused_and_changes_nothing(api: Api, mall: Mall) -> None:
    inside = await api.created(
        "/v1/car-visits", {"mall_id": mall.id, "plate": "RJ14AB0001", "section": "A"}, mall.security
    )
    other = await api.created(
        "/v1/car-visits", {"mall_id": mall.id, "plate": "RJ14AB0002", "section": "A"}, mall.security
    )
    url = f"/v1/car-visits/{inside['id']}"
    for patch, status, code in (
        ({"exited_at": _ago(minutes=1)}, 409, "still_inside"),
        ({"plate": "RJ14AB0002"}, 409, "already_inside"),
        ({"entered_at": (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()}, 422, "bad_times"),
        ({"plate": None}, 422, None),
        ({"entered_at": "yesterday"}, 422, None),
    ):
        response = await api.client.patch(url, json=patch, headers=mall.mall_admin.headers)
        assert response.status_code == status, (patch, response.text)
        assert code is None or response.json()["error"]["code"] == code
    await api.post(f"/v1/car-visits/{other['id']}/exit", {}, mall.security)
    for exit_at in (_ago(days=1), _ago(hours=-1)):
        wrong = await api.client.patch(
            f"/v1/car-visits/{other['id']}", json={"exited_at": exit_at}, headers=mall.mall_admin.headers
        )
        assert wrong.status_code == 422 and wrong.json()["error"]["code"] == "bad_times", exit_at
    assert (await api.get(url, mall.security)).json() == inside


async def test_an_admin_deletes_a_visit_recorded_by_mistake(api: Api, server, mall: Mall) -> None:
    visit = await api.created(
        "/v1/car-visits", {"mall_id": mall.id, "plate": "UP16XY0001", "section": "D"}, mall.security
    )
    staff = await connect(server.url, mall.security.access_token)
    try:
        await staff.join("mall", mall.id)
        url = f"/v1/car-visits/{visit['id']}"
        assert (await api.client.delete(url, headers=mall.security.headers)).status_code == 403
        assert (await api.client.delete(url, headers=mall.other_security.headers)).status_code == 404
        assert (await api.client.delete(url, headers=mall.mall_admin.headers)).status_code == 204
        (event,) = await staff.wait_for("car_visit_deleted")
        assert event["data"]["id"] == visit["id"]
    finally:
        await staff.close()
    assert (await api.get(url, mall.security)).status_code == 404
    day = await api.get("/v1/car-visits/day", mall.security, params={"mall_id": mall.id})
    assert day.json()["inside_now"] == 0
    back = await api.post("/v1/car-visits", {"mall_id": mall.id, "plate": "UP16XY0001", "section": "D"}, mall.security)
    assert back.status_code == 201, "the car is no longer counted inside"
