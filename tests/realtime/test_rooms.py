"""Socket handshake, rooms and their permissions, and what each client receives."""

from __future__ import annotations

import uuid

import pytest
import socketio

from tests.helpers import Api, Refused, connect, refused, settle


async def test_handshake_without_or_with_a_bad_token_is_refused_as_unauthorized(server) -> None:
    for token in (None, "", "garbage", "rt_" + "a" * 40):
        with pytest.raises(Refused) as refused:
            await connect(server.url, token)
        assert refused.value.reason == "unauthorized"


async def test_a_connected_user_is_in_its_own_room(api: Api, server, outbox, outbox_db) -> None:
    user = await api.signup()
    listener = await connect(server.url, user.access_token)
    try:
        async with outbox_db.transaction() as tx:
            outbox.publish(tx, f"user:{user.id}", "hello", {"n": 1})
        (event,) = await listener.wait_for("hello")
        assert event["room"] == f"user:{user.id}" and event["type"] == "hello" and event["data"] == {"n": 1}
        assert isinstance(event["event_id"], int) and event["at"].endswith("Z")
    finally:
        await listener.close()


async def test_only_residents_of_the_flat_may_join_and_only_they_receive(
    api: Api, admin, server, outbox, outbox_db
) -> None:
    society = await api.society(admin, flats=2)
    flat, other_flat = society.flats
    resident = await api.signup("Resident")
    neighbour = await api.signup("Neighbour")
    stranger = await api.signup("Stranger")
    await api.grant(admin, resident, "resident", "flat", flat)
    await api.grant(admin, neighbour, "resident", "flat", other_flat)
    listeners = {
        name: await connect(server.url, u.access_token)
        for name, u in (("resident", resident), ("neighbour", neighbour), ("stranger", stranger))
    }
    try:
        assert await listeners["resident"].join("flat", flat) == {"ok": True, "room": f"flat:{flat}"}
        assert refused(await listeners["neighbour"].join("flat", flat)) == "forbidden"
        assert refused(await listeners["stranger"].join("flat", flat)) == "forbidden"
        assert refused(await listeners["stranger"].join("society", society.id)) == "forbidden"
        assert refused(await listeners["stranger"].join("user", resident.id)) == "forbidden"
        assert refused(await listeners["stranger"].join("flat", str(uuid.uuid4()))) == "forbidden"
        async with outbox_db.transaction() as tx:
            outbox.publish(tx, f"flat:{flat}", "visitor_request", {"name": "Courier"})
        await listeners["resident"].wait_for("visitor_request")
        await settle()
        assert listeners["neighbour"].of("visitor_request") == []
        assert listeners["stranger"].of("visitor_request") == []
    finally:
        for listener in listeners.values():
            await listener.close()


async def test_guards_join_their_society_room_and_admins_any_room(api: Api, admin, server) -> None:
    society = await api.society(admin, flats=1)
    other = await api.society(admin, flats=0)
    guard = await api.signup("Guard")
    await api.grant(admin, guard, "guard", "society", society.id)
    guard_socket = await connect(server.url, guard.access_token)
    admin_socket = await connect(server.url, admin.access_token)
    try:
        assert (await guard_socket.join("society", society.id))["ok"] is True
        assert refused(await guard_socket.join("society", other.id)) == "forbidden"
        assert refused(await guard_socket.join("flat", society.flats[0])) == "forbidden"
        assert (await admin_socket.join("flat", society.flats[0]))["ok"] is True
        assert (await admin_socket.join("society", other.id))["ok"] is True
    finally:
        await guard_socket.close()
        await admin_socket.close()


@pytest.mark.parametrize(
    "payload",
    [
        None,
        "flat",
        42,
        {},
        {"room_type": "flat"},
        {"room_type": "flat", "room_id": "nope"},
        {"room_type": "kitchen", "room_id": str(uuid.uuid4())},
        {"room_type": "flat'; DROP TABLE users;--", "room_id": 1},
    ],
)
async def test_malformed_join_requests_are_bad_request(api: Api, server, payload) -> None:
    user = await api.signup()
    listener = await connect(server.url, user.access_token)
    try:
        assert refused(await listener.call("join_room", payload)) == "bad_request"
        assert listener.client.connected
    finally:
        await listener.close()


async def test_leave_room_stops_delivery(api: Api, admin, server, outbox, outbox_db) -> None:
    society = await api.society(admin, flats=1)
    resident = await api.signup()
    await api.grant(admin, resident, "resident", "flat", society.flats[0])
    listener = await connect(server.url, resident.access_token)
    try:
        await listener.join("flat", society.flats[0])
        left = await listener.call("leave_room", {"room_type": "flat", "room_id": society.flats[0]})
        assert left == {"ok": True, "room": f"flat:{society.flats[0]}"}
        async with outbox_db.transaction() as tx:
            outbox.publish(tx, f"flat:{society.flats[0]}", "visitor_request", {"name": "After leaving"})
        await settle()
        assert listener.of("visitor_request") == []
    finally:
        await listener.close()


async def test_an_event_in_a_rolled_back_transaction_is_never_delivered_nor_stored(
    api: Api, admin, server, outbox, outbox_db, db
) -> None:
    society = await api.society(admin, flats=1)
    resident = await api.signup()
    await api.grant(admin, resident, "resident", "flat", society.flats[0])
    listener = await connect(server.url, resident.access_token)
    room = f"flat:{society.flats[0]}"
    try:
        await listener.join("flat", society.flats[0])
        with pytest.raises(RuntimeError):
            async with outbox_db.transaction() as tx:
                outbox.publish(tx, room, "visitor_request", {"name": "Ghost"})
                raise RuntimeError("the change failed")
        async with outbox_db.transaction() as tx:
            outbox.publish(tx, room, "visitor_request", {"name": "Real"})
        received = await listener.wait_for("visitor_request")
        await settle()
        assert [e["data"]["name"] for e in listener.of("visitor_request")] == ["Real"]
        assert received[0]["data"]["name"] == "Real"
        async with db.connection() as conn:
            names = await conn.fetch("SELECT data->>'name' AS name FROM events WHERE room = $1", room)
        assert [r["name"] for r in names] == ["Real"]
    finally:
        await listener.close()


async def test_sync_replays_exactly_the_missed_events_in_order(api: Api, admin, server, outbox, outbox_db) -> None:
    society = await api.society(admin, flats=2)
    flat = society.flats[0]
    resident = await api.signup()
    await api.grant(admin, resident, "resident", "flat", flat)
    listener = await connect(server.url, resident.access_token)
    try:
        await listener.join("flat", flat)
        async with outbox_db.transaction() as tx:
            outbox.publish(tx, f"flat:{flat}", "visitor_request", {"name": "seen"})
        (seen,) = await listener.wait_for("visitor_request")
    finally:
        await listener.close()
    # Offline: three events for this flat, one for another flat.
    for name in ("first", "second", "third"):
        async with outbox_db.transaction() as tx:
            outbox.publish(tx, f"flat:{flat}", "visitor_request", {"name": name})
    async with outbox_db.transaction() as tx:
        outbox.publish(tx, f"flat:{society.flats[1]}", "visitor_request", {"name": "not yours"})
    back = await connect(server.url, resident.access_token)
    try:
        reply = await back.call("sync", {"room": f"flat:{flat}", "since": seen["event_id"]})
        assert reply["ok"] is True and reply["more"] is False
        assert [e["data"]["name"] for e in reply["events"]] == ["first", "second", "third"]
        ids = [e["event_id"] for e in reply["events"]]
        assert ids == sorted(ids) and ids[0] > seen["event_id"]
        assert all(e["room"] == f"flat:{flat}" and e["type"] == "visitor_request" for e in reply["events"])
        everything = await back.call("sync", {"room": f"flat:{flat}", "since": 0})
        assert [e["data"]["name"] for e in everything["events"]] == ["seen", "first", "second", "third"]
        assert refused(await back.call("sync", {"room": f"flat:{society.flats[1]}", "since": 0})) == "forbidden"
        for from_the_start in ({"room": f"flat:{flat}"}, {"room": f"flat:{flat}", "since": None}):
            assert (await back.call("sync", from_the_start))["events"] == everything["events"]
        assert refused(await back.call("sync", {"room": f"flat:{flat}", "since": "0"})) == "bad_request"
        assert refused(await back.call("sync", {"room": "flat:x", "since": 0})) == "bad_request"
    finally:
        await back.close()


async def test_events_left_unemitted_by_a_crash_are_relayed(api: Api, server, db) -> None:
    user = await api.signup()
    listener = await connect(server.url, user.access_token)
    try:
        async with db.connection() as conn:
            event_id = await conn.fetchval(
                """WITH e AS (INSERT INTO events (room, type, data, created_at)
                              VALUES ($1, 'stray', '{"n": 7}', now() - interval '1 minute') RETURNING id, created_at),
                        u AS (INSERT INTO events_unsent (id, created_at) SELECT id, created_at FROM e)
                   SELECT id FROM e""",
                f"user:{user.id}",
            )
        (event,) = await listener.wait_for("stray")
        assert event["event_id"] == event_id and event["data"] == {"n": 7}
        for _ in range(30):
            async with db.connection() as conn:
                if not await conn.fetchval("SELECT count(*) FROM events_unsent WHERE id = $1", event_id):
                    break
            await settle(0.1)
        else:
            raise AssertionError("the relayed event was never marked sent")
    finally:
        await listener.close()


async def test_a_revoked_role_takes_the_socket_out_of_the_room(api: Api, admin, server, outbox, outbox_db) -> None:
    society = await api.society(admin, flats=1)
    flat = society.flats[0]
    resident = await api.signup()
    assignment = await api.grant(admin, resident, "resident", "flat", flat)
    listener = await connect(server.url, resident.access_token)
    try:
        assert (await listener.join("flat", flat))["ok"] is True
        response = await api.client.delete(f"/v1/admin/role-assignments/{assignment['id']}", headers=admin.headers)
        assert response.status_code == 204
        (revoked,) = await listener.wait_for("role_revoked")
        assert revoked["data"]["id"] == assignment["id"]
        await settle(0.3)
        async with outbox_db.transaction() as tx:
            outbox.publish(tx, f"flat:{flat}", "visitor_request", {"name": "after revoke"})
        await settle()
        assert listener.of("visitor_request") == []
        assert listener.client.connected
        assert refused(await listener.join("flat", flat)) == "forbidden"
    finally:
        await listener.close()


async def test_disabling_an_account_closes_its_sockets_and_blocks_login(api: Api, admin, server) -> None:
    user = await api.signup()
    listener = await connect(server.url, user.access_token)
    try:
        assert (await api.post(f"/v1/admin/users/{user.id}/disable", {}, admin)).status_code == 204
        assert await listener.closed_by_server()
        assert (await api.get("/v1/profile/me", user)).status_code == 401
        login = await api.post("/v1/auth/login", {"email": user.email, "password": "correct-horse-9"})
        assert login.status_code == 403
        with pytest.raises(socketio.exceptions.ConnectionError):
            await connect(server.url, user.access_token)
        assert (await api.post(f"/v1/admin/users/{user.id}/enable", {}, admin)).status_code == 204
        assert (
            await api.post("/v1/auth/login", {"email": user.email, "password": "correct-horse-9"})
        ).status_code == 200
    finally:
        await listener.close()


async def test_a_message_over_64_kib_closes_the_connection(api: Api, server) -> None:
    user = await api.signup()
    listener = await connect(server.url, user.access_token)
    try:
        await listener.client.emit("join_room", {"room_type": "flat", "room_id": "x" * (70 * 1024)})
        assert await listener.closed_by_server()
    finally:
        await listener.close()
