"""Joining a flat: the user asks, the society admin decides, the user hears at once."""

from __future__ import annotations

import asyncio

from tests.helpers import Api, connect
from tests.society.conftest import Gate


async def test_approval_makes_a_resident_who_can_join_the_flat_room(api: Api, admin, gate: Gate, server, db) -> None:
    society_admin = await api.signup("Meera")
    await api.grant(admin, society_admin, "society_admin", "society", gate.society.id)
    newcomer = await api.signup("Newcomer")
    listener = await connect(server.url, newcomer.access_token)
    try:
        created = await api.post("/v1/resident-requests", {"flat_id": gate.flat, "relation": "tenant"}, newcomer)
        assert created.status_code == 201 and created.json()["status"] == "pending"
        again = await api.post("/v1/resident-requests", {"flat_id": gate.flat, "relation": "owner"}, newcomer)
        assert again.status_code == 409
        request_id = created.json()["id"]

        queue = await api.get("/v1/resident-requests", society_admin, params={"status": "pending"})
        assert request_id in [r["id"] for r in queue.json()["items"]]
        mine = await api.get("/v1/resident-requests", newcomer)
        assert [r["id"] for r in mine.json()["items"]] == [request_id]
        assert request_id not in [r["id"] for r in (await api.get("/v1/resident-requests", gate.guard)).json()["items"]]

        assert (await api.post(f"/v1/resident-requests/{request_id}/approve", {}, newcomer)).status_code == 403
        assert (await api.post(f"/v1/resident-requests/{request_id}/approve", {}, gate.guard)).status_code == 404
        approved = await api.post(f"/v1/resident-requests/{request_id}/approve", {}, society_admin)
        assert approved.status_code == 200 and approved.json()["status"] == "approved"
        (update,) = await listener.wait_for("resident_request_updated")
        assert update["data"]["status"] == "approved"
        assert (await listener.join("flat", gate.flat))["ok"] is True
        flats = (await api.get("/v1/profile/me", newcomer)).json()["flats"]
        assert (gate.flat, "resident") in [(f["id"], f["role"]) for f in flats]
        async with db.connection() as conn:
            relation = await conn.fetchval(
                "SELECT relation FROM flat_occupancies WHERE flat_id = $1::uuid AND user_id = $2::uuid",
                gate.flat,
                newcomer.id,
            )
        assert relation == "tenant"
        decided = await api.post(f"/v1/resident-requests/{request_id}/reject", {}, society_admin)
        assert decided.status_code == 409
    finally:
        await listener.close()


async def test_two_admins_deciding_at_once_one_wins(api: Api, admin, gate: Gate, db) -> None:
    admins = [await api.signup(f"Admin {i}") for i in range(2)]
    for a in admins:
        await api.grant(admin, a, "society_admin", "society", gate.society.id)
    newcomer = await api.signup()
    created = await api.post("/v1/resident-requests", {"flat_id": gate.other_flat, "relation": "owner"}, newcomer)
    request_id = created.json()["id"]
    results = await asyncio.gather(
        api.post(f"/v1/resident-requests/{request_id}/approve", {}, admins[0]),
        api.post(f"/v1/resident-requests/{request_id}/reject", {}, admins[1]),
    )
    assert sorted(r.status_code for r in results) == [200, 409]
    winner = next(r for r in results if r.status_code == 200).json()["status"]
    async with db.connection() as conn:
        roles = await conn.fetchval(
            "SELECT count(*) FROM role_assignments WHERE user_id = $1::uuid AND role = 'resident'", newcomer.id
        )
    assert roles == (1 if winner == "approved" else 0)


async def test_a_society_admin_of_another_society_cannot_decide(api: Api, admin, gate: Gate) -> None:
    outsider = await api.signup()
    await api.grant(admin, outsider, "society_admin", "society", gate.other_society.id)
    newcomer = await api.signup()
    created = await api.post("/v1/resident-requests", {"flat_id": gate.flat, "relation": "owner"}, newcomer)
    response = await api.post(f"/v1/resident-requests/{created.json()['id']}/approve", {}, outsider)
    assert response.status_code == 404
    assert (
        await api.post("/v1/resident-requests", {"flat_id": gate.flat, "relation": "landlord"}, newcomer)
    ).status_code == 422
