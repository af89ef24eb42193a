"""A push token belongs to one signed-in session: taking it over ends the old owner's session there,
and logging out forgets it (#14, item 11)."""

from __future__ import annotations

from tests.helpers import Api, User, connect
from tests.society.conftest import Gate


async def _register(api: Api, user: User, token: str) -> None:
    response = await api.post("/v1/guards/register-device", {"fcm_token": token, "platform": "android"}, user)
    assert response.status_code == 204, response.text


async def _owner(db, token: str) -> str | None:
    async with db.connection() as conn:
        owner = await conn.fetchval("SELECT user_id FROM device_tokens WHERE token = $1", token)
    return None if owner is None else str(owner)


async def test_a_token_taken_over_by_another_user_ends_the_old_owners_session(api: Api, gate: Gate, db) -> None:
    token = f"phone-at-the-gate-{gate.resident.id}"
    await _register(api, gate.resident, token)
    assert await _owner(db, token) == gate.resident.id
    old_socket = await connect(api.url, gate.resident.access_token)
    try:
        assert (await old_socket.join("flat", gate.flat))["ok"] is True
        await _register(api, gate.neighbour, token)
        assert await _owner(db, token) == gate.neighbour.id
        assert await old_socket.closed_by_server()
    finally:
        await old_socket.close()
    ended = await api.get("/v1/profile/me", gate.resident)
    assert ended.status_code == 401 and ended.json()["error"]["code"] == "session_ended"
    refreshed = await api.post("/v1/auth/refresh", {"refresh_token": gate.resident.refresh_token})
    assert refreshed.status_code == 401
    assert (await api.get("/v1/profile/me", gate.neighbour)).status_code == 200
    async with db.connection() as conn:
        audited = await conn.fetchval(
            "SELECT count(*) FROM audit_logs WHERE action = 'device.taken_over' AND actor_id = $1::uuid",
            gate.neighbour.id,
        )
    assert audited == 1


async def test_the_same_user_registering_again_keeps_their_session(api: Api, gate: Gate, db) -> None:
    token = f"my-phone-{gate.housemate.id}"
    await _register(api, gate.housemate, token)
    await _register(api, gate.housemate, token)
    assert await _owner(db, token) == gate.housemate.id
    assert (await api.get("/v1/profile/me", gate.housemate)).status_code == 200


async def test_logout_forgets_the_sessions_device_tokens_and_only_those(api: Api, gate: Gate, db) -> None:
    second = await api.login(gate.resident.email)
    await _register(api, gate.resident, f"phone-{gate.resident.id}")
    await _register(api, second, f"tablet-{gate.resident.id}")
    out = await api.client.post("/v1/auth/logout", headers=gate.resident.headers)
    assert out.status_code == 204, out.text
    assert await _owner(db, f"phone-{gate.resident.id}") is None
    assert await _owner(db, f"tablet-{gate.resident.id}") == gate.resident.id
