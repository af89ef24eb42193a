"""A society's admins read their society's audit log: what happened at its gate, in its flats and to its
people, and nothing of another society's; only admins read the whole log."""

from __future__ import annotations

from tests.helpers import Api, User
from tests.society.conftest import Gate, walk_in


async def _log(api: Api, user: User, society_id: str, **params: str) -> list[dict]:
    answer = await api.get("/v1/audit", user, params={"scope_type": "society", "scope_id": society_id, **params})
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


async def test_a_society_admin_reads_what_happened_in_their_society(api: Api, admin: User, gate: Gate) -> None:
    chair, other_chair = await api.signup("Chair"), await api.signup("Other Chair")
    await api.grant(admin, chair, "society_admin", "society", gate.society.id)
    await api.grant(admin, other_chair, "society_admin", "society", gate.other_society.id)
    visitor = await walk_in(api, gate, "Parcel")
    answer = await api.post(f"/v1/visitors/{visitor['id']}/respond", {"decision": "deny"}, gate.resident)
    assert answer.status_code == 200, answer.text
    device = await api.created(f"/v1/societies/{gate.society.id}/gate-devices", {"name": "Gate tablet"}, chair)
    await walk_in_elsewhere(api, admin, gate)

    mine = await _log(api, chair, gate.society.id)
    about_visitor = [e["action"] for e in mine if e["resource_id"] == visitor["id"]]
    assert about_visitor == ["visitor.denied", "visitor.pending"], "the flat's events are the society's"
    assert ("gate_device.registered", device["device"]["id"]) in [(e["action"], e["resource_id"]) for e in mine]
    granted = [e for e in mine if e["action"] == "role.granted"]
    assert {e["details"]["user_id"] for e in granted} >= {gate.guard.id, gate.resident.id, chair.id}
    assert other_chair.id not in {e["details"]["user_id"] for e in granted}, "another society's grant"
    assert not [e for e in mine if e["action"].startswith("session.") or e["action"] == "user.signup"]

    theirs = await _log(api, other_chair, gate.other_society.id, action="visitor.")
    assert theirs and visitor["id"] not in {e["resource_id"] for e in theirs}
    assert [e["action"] for e in await _log(api, chair, gate.society.id, action="visitor.", limit="1")] == [
        "visitor.denied"
    ], "the other filters still hold"
    assert await _log(api, admin, gate.society.id, actor_id=gate.resident.id, action="visitor.denied")


async def walk_in_elsewhere(api: Api, admin: User, gate: Gate) -> None:
    """A visitor at the other society's gate, which the first society's admins must not see."""
    answer = await api.post(
        "/v1/visitors",
        {"flat_id": gate.other_society.flats[0], "name": "Stranger", "purpose": "delivery"},
        gate.other_guard,
    )
    assert answer.status_code == 201, answer.text


async def test_only_a_places_admins_read_its_log(api: Api, admin: User, gate: Gate) -> None:
    chair = await api.signup("Chair")
    await api.grant(admin, chair, "society_admin", "society", gate.society.id)
    here = {"scope_type": "society", "scope_id": gate.society.id}
    for outsider in (gate.guard, gate.resident, gate.other_guard):
        assert (await api.get("/v1/audit", outsider, params=here)).status_code == 403
    elsewhere = {"scope_type": "society", "scope_id": gate.other_society.id}
    assert (await api.get("/v1/audit", chair, params=elsewhere)).status_code == 403
    assert (await api.get("/v1/audit", chair)).status_code == 403, "the whole log is the admins'"
    flat = {"scope_type": "flat", "scope_id": gate.flat}
    assert (await api.get("/v1/audit", chair, params=flat)).status_code == 200, "a flat of their society"
    missing = {"scope_type": "society", "scope_id": "00000000-0000-4000-8000-000000000000"}
    assert (await api.get("/v1/audit", admin, params=missing)).status_code == 404
    for params in ({"scope_type": "society"}, {"scope_id": gate.society.id}, {"scope_type": "nowhere; --"}):
        answer = await api.get("/v1/audit", chair, params=params)
        assert answer.status_code == 422, (params, answer.text)
