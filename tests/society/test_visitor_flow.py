"""The gate's core job, end to end with real sockets: a guard registers a
visitor, the flat's residents answer, the guard checks the visitor in and out."""

from __future__ import annotations

import asyncio
import datetime as dt

from tests.helpers import Api, connect, settle
from tests.society.conftest import Gate, walk_in


async def _joined(url: str, user, room_type: str, room_id: str):
    listener = await connect(url, user.access_token)
    assert (await listener.join(room_type, room_id))["ok"] is True
    return listener


async def test_request_answer_check_in_and_out_reach_exactly_the_right_people(api: Api, gate: Gate, server) -> None:
    guard = await _joined(server.url, gate.guard, "society", gate.society.id)
    resident = await _joined(server.url, gate.resident, "flat", gate.flat)
    housemate = await _joined(server.url, gate.housemate, "flat", gate.flat)
    neighbour = await _joined(server.url, gate.neighbour, "flat", gate.other_flat)
    other_guard = await _joined(server.url, gate.other_guard, "society", gate.other_society.id)
    try:
        visitor = await walk_in(api, gate, "Ramesh", vehicle_number="KA01AB1234")
        assert visitor["status"] == "pending" and visitor["flat_id"] == gate.flat
        (request,) = await resident.wait_for("visitor_request")
        await housemate.wait_for("visitor_request")
        assert request["data"]["id"] == visitor["id"] and request["room"] == f"flat:{gate.flat}"
        assert request["data"] == visitor
        (at_gate,) = await guard.wait_for("visitor_request")
        assert (at_gate["room"], at_gate["data"]) == (f"society:{gate.society.id}", visitor), "the gate sees it too"

        answer = await api.post(
            f"/v1/visitors/{visitor['id']}/respond", {"decision": "approve", "note": "send up"}, gate.resident
        )
        assert answer.status_code == 200
        assert answer.json()["status"] == "accepted" and answer.json()["responded_by"] == gate.resident.id
        (approved,) = await guard.wait_for("request_approved")
        assert approved["data"]["id"] == visitor["id"] and approved["room"] == f"society:{gate.society.id}"
        # The housemate's prompt closes and shows who answered.
        (closed,) = await housemate.wait_for("request_approved")
        assert closed["data"]["responded_by_name"] == "Asha"

        checkin = await api.post("/v1/visits/checkin", {"visitor_id": visitor["id"]}, gate.guard)
        assert checkin.status_code == 201
        visit = checkin.json()
        assert visit["visitor_id"] == visitor["id"] and visit["checkout_at"] is None
        (arrived,) = await resident.wait_for("visitor_checked_in")
        assert arrived["data"]["id"] == visit["id"] and arrived["data"]["visitor_name"] == "Ramesh"

        checkout = await api.post("/v1/visits/checkout", {"visitor_id": visitor["id"]}, gate.guard)
        assert checkout.status_code == 200 and checkout.json()["checkout_at"] is not None
        await resident.wait_for("visitor_checked_out")

        history = await api.get("/v1/visits", gate.resident, params={"flat_id": gate.flat})
        assert [v["id"] for v in history.json()["items"]] == [visit["id"]]
        assert history.json()["items"][0]["checkout_at"] is not None

        await settle()
        for outsider in (neighbour, other_guard):
            assert not [name for name, _ in outsider.events if name.startswith(("visitor_", "request_"))]
    finally:
        for listener in (guard, resident, housemate, neighbour, other_guard):
            await listener.close()


async def test_outsiders_get_403_or_404_and_nothing_changes(api: Api, gate: Gate) -> None:
    visitor = await walk_in(api, gate)
    path = f"/v1/visitors/{visitor['id']}/respond"
    assert (await api.post(path, {"decision": "approve"}, gate.neighbour)).status_code == 404
    assert (await api.post(path, {"decision": "approve"}, gate.other_guard)).status_code == 404
    assert (await api.post(path, {"decision": "approve"}, gate.guard)).status_code == 403
    body = {"flat_id": gate.flat, "name": "Sneaky"}
    assert (await api.post("/v1/visitors", body, gate.other_guard)).status_code == 403
    assert (await api.post("/v1/visitors", body, gate.resident)).status_code == 403  # residents invite instead
    invite = {**body, "expected_at": (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).isoformat()}
    assert (await api.post("/v1/visitors", invite, gate.guard)).status_code == 403
    assert (await api.post("/v1/visitors", invite, gate.neighbour)).status_code == 403
    assert (await api.post("/v1/visits/checkin", {"visitor_id": visitor["id"]}, gate.other_guard)).status_code == 404
    assert (await api.get("/v1/visitors", gate.neighbour, params={"flat_id": gate.flat})).status_code == 403
    assert (await api.get("/v1/visitors", gate.other_guard, params={"society_id": gate.society.id})).status_code == 403
    stranger = await api.signup()
    assert (await api.get("/v1/visitors", stranger)).status_code == 403
    # The neighbour's own list does not include the other flat's visitor.
    mine = await api.get("/v1/visitors", gate.neighbour)
    assert visitor["id"] not in [v["id"] for v in mine.json()["items"]]
    still = await api.get("/v1/visitors", gate.resident, params={"flat_id": gate.flat})
    assert [v["status"] for v in still.json()["items"] if v["id"] == visitor["id"]] == ["pending"]


async def test_the_state_machine_refuses_every_other_move(api: Api, gate: Gate) -> None:
    visitor = await walk_in(api, gate)
    vid = visitor["id"]
    pending_in = await api.post("/v1/visits/checkin", {"visitor_id": vid}, gate.guard)
    assert pending_in.status_code == 409 and pending_in.json()["error"]["details"] == {"status": "pending"}
    assert (await api.post("/v1/visits/checkout", {"visitor_id": vid}, gate.guard)).status_code == 409
    assert (await api.post(f"/v1/visitors/{vid}/respond", {"decision": "deny"}, gate.resident)).status_code == 200
    again = await api.post(f"/v1/visitors/{vid}/respond", {"decision": "approve"}, gate.housemate)
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_decided"
    assert (await api.post("/v1/visits/checkin", {"visitor_id": vid}, gate.guard)).status_code == 409
    bad = await api.post(f"/v1/visitors/{vid}/respond", {"decision": "maybe"}, gate.resident)
    assert bad.status_code == 422


async def test_two_residents_answering_at_once_one_wins_and_one_event_goes_out(api: Api, gate: Gate, db) -> None:
    for _ in range(5):
        visitor = await walk_in(api, gate)
        path = f"/v1/visitors/{visitor['id']}/respond"
        first, second = await asyncio.gather(
            api.post(path, {"decision": "approve"}, gate.resident),
            api.post(path, {"decision": "deny"}, gate.housemate),
        )
        assert sorted([first.status_code, second.status_code]) == [200, 409]
        async with db.connection() as conn:
            events = await conn.fetchval(
                """SELECT count(*) FROM events WHERE room = $1 AND data->>'id' = $2
                   AND type IN ('request_approved', 'request_denied')""",
                f"society:{gate.society.id}",
                visitor["id"],
            )
            history = await conn.fetchval(
                "SELECT count(*) FROM visitor_status_history WHERE visitor_id = $1::uuid", visitor["id"]
            )
        assert events == 1
        assert history == 2  # created, then exactly one answer


async def test_two_guards_checking_in_one_visitor_make_one_visit(api: Api, gate: Gate, admin, db) -> None:
    second_guard = await api.signup("Second Guard")
    await api.grant(admin, second_guard, "guard", "society", gate.society.id)
    visitor = await walk_in(api, gate)
    await api.post(f"/v1/visitors/{visitor['id']}/respond", {"decision": "approve"}, gate.resident)
    results = await asyncio.gather(
        api.post("/v1/visits/checkin", {"visitor_id": visitor["id"]}, gate.guard),
        api.post("/v1/visits/checkin", {"visitor_id": visitor["id"]}, second_guard),
    )
    assert sorted(r.status_code for r in results) == [201, 409]
    async with db.connection() as conn:
        visits = await conn.fetchval("SELECT count(*) FROM visits WHERE visitor_id = $1::uuid", visitor["id"])
    assert visits == 1


async def test_idempotency_key_replays_and_refuses_a_different_body(api: Api, gate: Gate, db) -> None:
    body = {"flat_id": gate.flat, "name": "Retry Courier", "purpose": "parcel"}
    headers = {"idempotency-key": "gate-tablet-7-req-1"}
    results = await asyncio.gather(*(api.post("/v1/visitors", body, gate.guard, headers=headers) for _ in range(4)))
    assert {r.status_code for r in results} == {201}
    assert len({r.json()["id"] for r in results}) == 1
    visitor_id = results[0].json()["id"]
    reordered = {"purpose": "parcel", "name": "Retry Courier", "flat_id": gate.flat}
    replay = await api.post("/v1/visitors", reordered, gate.guard, headers=headers)
    assert replay.status_code == 201 and replay.json() == results[0].json()
    other = await api.post("/v1/visitors", {**body, "name": "Someone Else"}, gate.guard, headers=headers)
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"
    async with db.connection() as conn:
        rows = await conn.fetchval(
            "SELECT count(*) FROM visitors WHERE name = 'Retry Courier' AND flat_id = $1::uuid", gate.flat
        )
        rooms = await conn.fetchval(
            "SELECT array_agg(room ORDER BY id) FROM events WHERE type = 'visitor_request' AND data->>'id' = $1",
            visitor_id,
        )
    assert rows == 1 and rooms == [f"flat:{gate.flat}", f"society:{gate.society.id}"], "one event per room, once"


async def test_invited_visitor_walks_in_with_the_code(api: Api, gate: Gate, server, db) -> None:
    guard = await _joined(server.url, gate.guard, "society", gate.society.id)
    try:
        expected_at = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(minutes=30)
        response = await api.post(
            "/v1/visitors",
            {"flat_id": gate.flat, "name": "Priya", "phone": "+91 90000 11111", "expected_at": expected_at.isoformat()},
            gate.resident,
        )
        assert response.status_code == 201
        invited = response.json()
        assert invited["status"] == "pre_approved" and len(invited["invite_code"]) == 8
        (expected,) = await guard.wait_for("expected_visitor")
        assert expected["data"]["id"] == invited["id"]
        today = await api.get(
            f"/v1/society/{gate.society.id}/expected-visitors",
            gate.guard,
            params={"date": expected_at.date().isoformat()},
        )
        assert invited["id"] in [v["id"] for v in today.json()["items"]]
        assert (await api.get(f"/v1/society/{gate.society.id}/expected-visitors", gate.other_guard)).status_code == 403

        sent = await api.post(f"/v1/visitors/{invited['id']}/send-invite", {"channel": "whatsapp"}, gate.resident)
        assert sent.status_code == 202 and sent.json() == {"status": "logged"}
        async with db.connection() as conn:
            logs = await conn.fetch(
                "SELECT channel, outcome FROM notification_logs WHERE resource_id = $1", invited["id"]
            )
        assert [(r["channel"], r["outcome"]) for r in logs] == [("whatsapp", "logged")]

        wrong_gate = await api.post("/v1/visits/checkin", {"invite_code": invited["invite_code"]}, gate.other_guard)
        assert wrong_gate.status_code == 404
        checkin = await api.post("/v1/visits/checkin", {"invite_code": invited["invite_code"].lower()}, gate.guard)
        assert checkin.status_code == 201 and checkin.json()["visitor_id"] == invited["id"]
        reuse = await api.post("/v1/visits/checkin", {"invite_code": invited["invite_code"]}, gate.guard)
        assert reuse.status_code == 409
    finally:
        await guard.close()


async def test_an_offline_resident_catches_up_with_sync(api: Api, gate: Gate, server) -> None:
    online = await _joined(server.url, gate.resident, "flat", gate.flat)
    first = await walk_in(api, gate, "Before")
    (seen,) = await online.wait_for("visitor_request")
    await online.close()
    missed = [await walk_in(api, gate, name) for name in ("Missed 1", "Missed 2")]
    back = await connect(server.url, gate.resident.access_token)
    try:
        reply = await back.call("sync", {"room": f"flat:{gate.flat}", "since": seen["event_id"]})
        assert reply["ok"] is True
        assert [e["data"]["id"] for e in reply["events"]] == [v["id"] for v in missed]
        assert seen["data"]["id"] == first["id"]
    finally:
        await back.close()


async def test_a_registered_phone_gets_a_push_attempt_that_is_logged(api: Api, gate: Gate, db) -> None:
    device = await api.post(
        "/v1/guards/register-device",
        {"fcm_token": "fcm-token-" + gate.resident.id, "platform": "android"},
        gate.resident,
    )
    assert device.status_code == 204
    stranger = await api.signup()
    assert (
        await api.post("/v1/guards/register-device", {"fcm_token": "x", "platform": "ios"}, stranger)
    ).status_code == 403
    visitor = await walk_in(api, gate)
    for _ in range(50):
        async with db.connection() as conn:
            rows = await conn.fetch(
                "SELECT user_id, channel, outcome FROM notification_logs WHERE resource_id = $1", visitor["id"]
            )
        if rows:
            break
        await settle(0.1)
    assert [(str(r["user_id"]), r["channel"], r["outcome"]) for r in rows] == [(gate.resident.id, "push", "skipped")]


async def test_a_walk_in_writes_history_audit_and_an_event_that_syncs_as_it_was_sent(
    api: Api, gate: Gate, server, db
) -> None:
    before = dt.datetime.now(dt.UTC)
    visitor = await walk_in(api, gate, "Single Statement", phone="+919800000001", vehicle_number="KA05MN0001")
    assert visitor["society_id"] == gate.society.id and visitor["created_at"] == visitor["updated_at"]
    assert dt.datetime.fromisoformat(visitor["created_at"]) >= before - dt.timedelta(seconds=5)

    resident = await connect(server.url, gate.resident.access_token)
    try:
        reply = await resident.call("sync", {"room": f"flat:{gate.flat}", "since": 0})
    finally:
        await resident.close()
    (event,) = [e for e in reply["events"] if e["data"]["id"] == visitor["id"]]
    assert event["type"] == "visitor_request" and event["data"] == visitor

    async with db.connection() as conn:
        history = await conn.fetch(
            "SELECT from_status, to_status, actor_id::text FROM visitor_status_history WHERE visitor_id = $1::uuid",
            visitor["id"],
        )
        audit = await conn.fetchrow(
            "SELECT actor_id::text, action, request_id, ip FROM audit_logs WHERE resource_id = $1", visitor["id"]
        )
        escalate_at = await conn.fetchval("SELECT escalate_at FROM visitors WHERE id = $1::uuid", visitor["id"])
    assert [tuple(r) for r in history] == [(None, "pending", gate.guard.id)]
    assert audit["actor_id"] == gate.guard.id and audit["action"] == "visitor.pending"
    assert audit["request_id"] and audit["ip"] is not None
    assert escalate_at > dt.datetime.fromisoformat(visitor["created_at"])


async def test_a_refused_walk_in_writes_nothing_and_leaves_its_key_free(api: Api, gate: Gate, db) -> None:
    headers = {"idempotency-key": "refused-then-fixed"}
    name = "Nowhere'); DROP TABLE visitors; --"
    wrong_flat = await api.post("/v1/visitors", {"flat_id": gate.flat, "name": name}, gate.other_guard, headers=headers)
    assert wrong_flat.status_code == 403
    no_flat = await api.post(
        "/v1/visitors", {"flat_id": "00000000-0000-4000-8000-000000000000", "name": name}, gate.guard, headers=headers
    )
    assert no_flat.status_code == 404
    async with db.connection() as conn:
        assert await conn.fetchval("SELECT count(*) FROM visitors WHERE name = $1", name) == 0
        keys = await conn.fetchval("SELECT count(*) FROM idempotency_keys WHERE key = $1", headers["idempotency-key"])
    assert keys == 0
    fixed = await api.post("/v1/visitors", {"flat_id": gate.flat, "name": name}, gate.guard, headers=headers)
    assert fixed.status_code == 201 and fixed.json()["name"] == name


async def test_an_answer_is_sent_and_kept_as_it_was_returned(api: Api, gate: Gate, server, db) -> None:
    guard = await _joined(server.url, gate.guard, "society", gate.society.id)
    resident = await connect(server.url, gate.resident.access_token)
    try:
        visitor = await walk_in(api, gate, "Answer Once")
        response = await api.post(
            f"/v1/visitors/{visitor['id']}/respond", {"decision": "deny", "note": "no"}, gate.resident
        )
        assert response.status_code == 200
        denied = response.json()
        assert (
            denied["status"] == "denied" and denied["responded_by_name"] == "Asha" and denied["response_note"] == "no"
        )
        assert denied["responded_at"] == denied["updated_at"] and denied["created_at"] == visitor["created_at"]
        (live,) = await guard.wait_for("request_denied")
        assert live["data"] == denied
        for listener, room in ((resident, f"flat:{gate.flat}"), (guard, f"society:{gate.society.id}")):
            reply = await listener.call("sync", {"room": room, "since": live["event_id"] - 5})
            (kept,) = [e for e in reply["events"] if e["type"] == "request_denied" and e["data"]["id"] == visitor["id"]]
            assert kept["data"] == denied
        listed = await api.get("/v1/visitors", gate.resident, params={"flat_id": gate.flat})
        assert [v for v in listed.json()["items"] if v["id"] == visitor["id"]] == [denied]
    finally:
        await guard.close()
        await resident.close()
    async with db.connection() as conn:
        history = await conn.fetch(
            "SELECT from_status, to_status, note FROM visitor_status_history WHERE visitor_id = $1::uuid ORDER BY id",
            visitor["id"],
        )
        audit = await conn.fetchval(
            "SELECT array_agg(action ORDER BY id) FROM audit_logs WHERE resource_id = $1", visitor["id"]
        )
    assert [tuple(r) for r in history] == [(None, "pending", None), ("pending", "denied", "no")]
    assert audit == ["visitor.pending", "visitor.denied"]


async def test_a_burst_of_requests_reaches_the_flat_whole(api: Api, gate: Gate, server) -> None:
    resident = await _joined(server.url, gate.resident, "flat", gate.flat)
    try:
        sent = await asyncio.gather(*(walk_in(api, gate, f"Burst {i}") for i in range(40)))
        received = await resident.wait_for("visitor_request", count=40)
        assert sorted(e["data"]["id"] for e in received) == sorted(v["id"] for v in sent)
        assert len({e["event_id"] for e in received}) == 40
    finally:
        await resident.close()


async def test_an_invite_is_not_replayed_to_someone_who_may_no_longer_invite(api: Api, admin, gate: Gate) -> None:
    resident = await api.signup("Short Stay")
    assignment = await api.grant(admin, resident, "resident", "flat", gate.flat)
    expected_at = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).isoformat()
    body = {"flat_id": gate.flat, "name": "Cousin", "expected_at": expected_at}
    headers = {"idempotency-key": f"invite-{resident.id}"}
    first = await api.post("/v1/visitors", body, resident, headers=headers)
    assert first.status_code == 201
    revoked = await api.client.delete(f"/v1/admin/role-assignments/{assignment['id']}", headers=admin.headers)
    assert revoked.status_code == 204
    again = await api.post("/v1/visitors", body, resident, headers=headers)
    assert again.status_code == 403
