"""`/asyncapi.json` describes the Socket.IO contract, and every event the server writes keeps to it:
its name is declared, it goes to a room type the declaration names, and its envelope and `data` match
the payload schema (#15)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from jsonschema import Draft202012Validator

from app.main import DOMAINS
from app.platform.realtime.outbox import Event
from tests.helpers import Api, User
from tests.mall.conftest import new_mall


async def _document(api: Api) -> dict[str, Any]:
    response = await api.client.get("/asyncapi.json")
    assert response.status_code == 200
    return response.json()


async def test_the_document_lists_rooms_events_and_what_clients_send(api: Api) -> None:
    doc = await _document(api)
    assert doc["asyncapi"] == "3.0.0"
    assert {"user", "flat", "society", "mall", "shop", "socket"} <= set(doc["channels"])
    assert doc["channels"]["flat"]["address"] == "flat:{id}"
    declared = {e.name for e in DOMAINS.events()}
    assert declared == set(doc["components"]["messages"]) - {
        m for m in doc["components"]["messages"] if "_ack" in m or m in {"join_room", "leave_room", "sync", "auth"}
    }
    assert {"visitor_request", "car_entered", "role_granted"} <= set(doc["channels"]["flat"]["messages"]) | set(
        doc["channels"]["mall"]["messages"]
    ) | set(doc["channels"]["user"]["messages"])
    sync = doc["operations"]["sync"]
    assert sync["action"] == "send" and sync["reply"]["messages"]
    refusal = doc["components"]["schemas"]["Refusal"]["properties"]["error"]["properties"]["code"]["enum"]
    assert "forbidden" in refusal


async def _flows(api: Api, admin: User) -> list[str]:
    """Make the server emit one of nearly every kind of event; returns the rooms they went to."""
    society = await api.society(admin, flats=2)
    guard, resident, newcomer = await api.signup("Guard"), await api.signup("Asha"), await api.signup("Newcomer")
    await api.grant(admin, guard, "guard", "society", society.id)
    await api.grant(admin, resident, "resident", "flat", society.flats[0])
    walk_in = {"flat_id": society.flats[0], "name": "Ramesh", "purpose": "delivery"}
    visitor = await api.created("/v1/visitors", walk_in, guard)
    assert (
        await api.post(f"/v1/visitors/{visitor['id']}/respond", {"decision": "approve"}, resident)
    ).status_code == 200
    assert (await api.post("/v1/visits/checkin", {"visitor_id": visitor["id"]}, guard)).status_code == 201
    assert (await api.post("/v1/visits/checkout", {"visitor_id": visitor["id"]}, guard)).status_code == 200
    denied = await api.created("/v1/visitors", {**walk_in, "name": "Stranger"}, guard)
    assert (await api.post(f"/v1/visitors/{denied['id']}/respond", {"decision": "deny"}, resident)).status_code == 200
    expected = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).isoformat()
    aunt = await api.created("/v1/visitors", {**walk_in, "name": "Aunt", "expected_at": expected}, resident)
    changed = await api.client.patch(f"/v1/visitors/{aunt['id']}", json={"purpose": "tea"}, headers=resident.headers)
    assert changed.status_code == 200
    assert (await api.client.delete(f"/v1/visitors/{aunt['id']}", headers=resident.headers)).status_code == 204
    asked = await api.created("/v1/resident-requests", {"flat_id": society.flats[1], "relation": "tenant"}, newcomer)
    assert (await api.post(f"/v1/resident-requests/{asked['id']}/approve", {}, admin)).status_code == 200
    granted = await api.grant(admin, newcomer, "guard", "society", society.id)
    revoked = await api.client.delete(f"/v1/admin/role-assignments/{granted['id']}", headers=admin.headers)
    assert revoked.status_code == 204
    mall = await new_mall(api, admin)
    security = await api.signup("Security")
    await api.grant(admin, security, "security", "mall", mall["id"])
    car = await api.created("/v1/car-visits", {"mall_id": mall["id"], "plate": "KA01AB0001", "section": "A"}, security)
    assert (await api.post(f"/v1/car-visits/{car['id']}/exit", {}, security)).status_code == 200
    corrected = await api.client.patch(f"/v1/car-visits/{car['id']}", json={"section": "B"}, headers=admin.headers)
    assert corrected.status_code == 200
    assert (await api.client.delete(f"/v1/car-visits/{car['id']}", headers=admin.headers)).status_code == 204
    cinema = await api.created("/v1/cinemas", {"mall_id": mall["id"], "name": "Screen 1"}, admin)
    movie = await api.created(
        "/v1/movies", {"mall_id": mall["id"], "name": "Monsoon", "duration_minutes": 120, "ticket_price": 100}, admin
    )
    showing = {"cinema_id": cinema["id"], "movie_id": movie["id"], "starts_at": expected, "seats": 10}
    showing = await api.created("/v1/showings", showing, admin)
    await api.created("/v1/ticket-checkouts", {"showing_id": showing["id"], "tickets": 2}, newcomer)
    await api.created("/v1/attendance/clock-in", {"mall_id": mall["id"]}, security)
    issue = await api.created(
        "/v1/issues", {"mall_id": mall["id"], "issue_type": "spill", "details": "Juice"}, newcomer
    )
    assigned = await api.post(f"/v1/issues/{issue['id']}/assign", {"user_ids": [security.id]}, admin)
    assert assigned.status_code == 200
    camera = await api.created(f"/v1/malls/{mall['id']}/api-keys", {"name": "Camera"}, admin)
    seen = await api.client.post(
        "/v1/model-issues", json={"issue_type": "smoke", "details": "Grey smoke"}, headers={"x-api-key": camera["key"]}
    )
    assert seen.status_code == 201
    assert (await api.client.delete(f"/v1/issues/{seen.json()['id']}", headers=admin.headers)).status_code == 204
    assert (await api.post("/v1/attendance/clock-out", {}, security)).status_code == 200
    shop = await api.created("/v1/shops", {"mall_id": mall["id"], "name": "Cafe", "shop_type": "cafe"}, admin)
    await api.created("/v1/shop-visits", {"shop_id": shop["id"], "user_id": newcomer.id}, admin)
    size = {"name": "Size", "min_choices": 1, "options": [{"name": "Large", "price_delta": 50}]}
    coffee = {"shop_id": shop["id"], "name": "Coffee", "price": 100, "stock": 5, "modifier_groups": [size]}
    coffee = await api.created("/v1/products", coffee, admin)
    large = coffee["modifier_groups"][0]["options"][0]["id"]
    line = {"product_id": coffee["id"], "option_ids": [large], "quantity": 2}
    assert (await api.post("/v1/cart/items", line, newcomer)).status_code == 200
    order = await api.created("/v1/orders", {"shop_id": shop["id"]}, newcomer)
    paid = await api.post(f"/v1/orders/{order['id']}/payments", {"method": "card", "amount": order["total"]}, admin)
    assert paid.status_code == 201
    assert (await api.post(f"/v1/orders/{order['id']}/status", {"to": "preparing"}, admin)).status_code == 200
    low = {"name": "Milk", "unit": "ml", "quantity": 50, "reorder_threshold": 100}
    await api.created(f"/v1/shops/{shop['id']}/inventory", low, admin)
    flats = [f"flat:{flat}" for flat in society.flats]
    return [
        *flats,
        f"society:{society.id}",
        f"user:{newcomer.id}",
        f"user:{security.id}",
        f"mall:{mall['id']}",
        f"shop:{shop['id']}",
    ]


async def test_every_event_written_keeps_to_the_document(api: Api, admin: User, db) -> None:
    """The rooms of these flows only: transport tests elsewhere write made-up events straight to the outbox."""
    rooms = await _flows(api, admin)
    doc = await _document(api)
    declared = {e.name: e for e in DOMAINS.events()}
    async with db.connection() as conn:
        rows = await conn.fetch(
            "SELECT id, type, room, created_at, data FROM events WHERE room = ANY($1::text[]) ORDER BY id", rooms
        )
    seen = set()
    problems = []
    for row in rows:
        event = Event(row["id"], row["type"], row["room"], row["created_at"], row["data"])
        seen.add(event.type)
        if event.type not in declared:
            problems.append(f"{event.type}: not declared")
            continue
        if event.room.split(":", 1)[0] not in declared[event.type].rooms:
            problems.append(f"{event.type}: sent to {event.room}")
        schema = {"$ref": f"#/components/schemas/{event.type}_event", "components": doc["components"]}
        wire = {**event.payload(), "at": event.at.isoformat()}
        for error in Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER).iter_errors(wire):
            problems.append(f"{event.type} #{event.event_id}: {error.message} at {list(error.absolute_path)}")
    assert problems == []
    # Escalations and refunds need a server running jobs (and Stripe, for refunds): their own tests check them.
    assert set(declared) - seen <= {"request_escalated", "refund_updated"}, "each kind of event was checked"
