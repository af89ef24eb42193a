"""A new resident sees the flat's past only from the moment they became a resident, in lists and in
`sync`, unless the society admin lets them see further back (#14, item 12)."""

from __future__ import annotations

from typing import Any

from tests.helpers import Api, User, connect
from tests.society.conftest import Gate, walk_in


async def _society_admin(api: Api, admin: User, gate: Gate) -> User:
    meera = await api.signup("Meera")
    await api.grant(admin, meera, "society_admin", "society", gate.society.id)
    return meera


async def _move_in(api: Api, gate: Gate, society_admin: User, body: dict[str, Any] | None = None) -> User:
    newcomer = await api.signup("Newcomer")
    asked = await api.created("/v1/resident-requests", {"flat_id": gate.flat, "relation": "tenant"}, newcomer)
    path = f"/v1/resident-requests/{asked['id']}/approve"
    approved = await (
        api.post(path, body, society_admin)
        if body is not None
        else api.client.post(path, headers=society_admin.headers)
    )
    assert approved.status_code == 200, approved.text
    return newcomer


async def _seen(api: Api, gate: Gate, user: User, room: str = "flat") -> tuple[set[str], set[str], set[str]]:
    """Visitor names in the list, visits' names, and check-ins replayed by `sync` of the flat room
    (a resident's) or of the society room (the gate's)."""
    visitors = await api.get("/v1/visitors", user, params={"flat_id": gate.flat})
    visits = await api.get("/v1/visits", user, params={"flat_id": gate.flat})
    assert visitors.status_code == 200 and visits.status_code == 200, (visitors.text, visits.text)
    listener = await connect(api.url, user.access_token)
    try:
        room_id = gate.flat if room == "flat" else gate.society.id
        replay = await listener.call("sync", {"room": f"{room}:{room_id}", "since": 0})
    finally:
        await listener.close()
    assert replay["ok"] is True, replay
    return (
        {v["name"] for v in visitors.json()["items"]},
        {v["visitor_name"] for v in visits.json()["items"]},
        {e["data"]["visitor_name"] for e in replay["events"] if e["type"] == "visitor_checked_in"},
    )


async def _visit(api: Api, gate: Gate, name: str) -> None:
    visitor = await walk_in(api, gate, name)
    answer = await api.post(f"/v1/visitors/{visitor['id']}/respond", {"decision": "approve"}, gate.resident)
    assert answer.status_code == 200, answer.text
    assert (await api.post("/v1/visits/checkin", {"visitor_id": visitor["id"]}, gate.guard)).status_code == 201


async def test_a_new_resident_sees_nothing_from_before_they_moved_in(api: Api, admin: User, gate: Gate) -> None:
    society_admin = await _society_admin(api, admin, gate)
    await _visit(api, gate, "Previous Tenant's Friend")
    newcomer = await _move_in(api, gate, society_admin)
    await _visit(api, gate, "Newcomer's Friend")

    assert await _seen(api, gate, newcomer) == ({"Newcomer's Friend"},) * 3
    everything = {"Previous Tenant's Friend", "Newcomer's Friend"}
    assert await _seen(api, gate, gate.resident) == (everything,) * 3  # granted before both
    assert await _seen(api, gate, gate.guard, "society") == (everything,) * 3


async def test_the_society_admin_lets_a_resident_see_further_back(api: Api, admin: User, gate: Gate) -> None:
    society_admin = await _society_admin(api, admin, gate)
    await _visit(api, gate, "Old Visitor")
    newcomer = await _move_in(api, gate, society_admin)
    assert await _seen(api, gate, newcomer) == (set(), set(), set())

    grants = await _assignments(api, admin, newcomer)
    path = f"/v1/admin/role-assignments/{grants['resident']}"
    for outsider in (gate.guard, newcomer, gate.resident):
        refused = await api.client.patch(path, json={"history_from": None}, headers=outsider.headers)
        assert refused.status_code == 404, refused.text
    wrong = await api.client.patch(path, json={"history_from": "last week"}, headers=society_admin.headers)
    assert wrong.status_code == 422
    assert (await api.client.patch(path, json={}, headers=society_admin.headers)).status_code == 422

    widened = await api.client.patch(path, json={"history_from": None}, headers=society_admin.headers)
    assert widened.status_code == 200 and widened.json()["history_from"] is None
    assert await _seen(api, gate, newcomer) == ({"Old Visitor"},) * 3


async def test_approval_can_open_history_from_a_chosen_moment(api: Api, admin: User, gate: Gate) -> None:
    society_admin = await _society_admin(api, admin, gate)
    await _visit(api, gate, "Old Visitor")
    newcomer = await _move_in(api, gate, society_admin, {"history_from": "2000-01-01T00:00:00Z"})
    assert await _seen(api, gate, newcomer) == ({"Old Visitor"},) * 3


async def _assignments(api: Api, admin: User, user: User) -> dict[str, str]:
    """The user's role assignment ids by role, granting again (which answers the existing one)."""
    profile = (await api.get("/v1/profile/me", user)).json()
    found = {}
    for role in profile["roles"]:
        again = await api.post(
            "/v1/admin/role-assignments",
            {"user_id": user.id, "role": role["role"], "scope_type": role["scope_type"], "scope_id": role["scope_id"]},
            admin,
        )
        assert again.status_code == 200, again.text
        found[role["role"]] = again.json()["id"]
    return found
