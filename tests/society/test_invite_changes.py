"""A resident changes or calls off an invitation before the visitor arrives: the gate and the flat hear of it
at once, a cancelled code lets nobody in, and nobody else's invitation can be touched."""

from __future__ import annotations

import datetime as dt

from tests.helpers import Api, connect, settle
from tests.society.conftest import Gate, walk_in


def _at(hours: float) -> str:
    return (dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(hours=hours)).isoformat()


async def _invite(api: Api, gate: Gate, name: str = "Priya") -> dict:
    body = {"flat_id": gate.flat, "name": name, "phone": "+91 90000 11111", "expected_at": _at(2)}
    return await api.created("/v1/visitors", body, gate.resident)


async def test_an_edited_invitation_reaches_the_gate_and_the_flat(api: Api, server, gate: Gate) -> None:
    invite = await _invite(api, gate)
    booth = await connect(server.url, gate.guard.access_token)
    home = await connect(server.url, gate.housemate.access_token)
    elsewhere = await connect(server.url, gate.other_guard.access_token)
    try:
        assert (await booth.join("society", gate.society.id))["ok"] is True
        assert (await home.join("flat", gate.flat))["ok"] is True
        assert (await elsewhere.join("society", gate.other_society.id))["ok"] is True
        later = _at(5)
        changed = await api.client.patch(
            f"/v1/visitors/{invite['id']}",
            json={"name": "Priya Sharma", "expected_at": later, "vehicle_number": "MH12 AB 1234"},
            headers=gate.resident.headers,
        )
        assert changed.status_code == 200, changed.text
        body = changed.json()
        assert (body["name"], body["vehicle_number"], body["status"]) == (
            "Priya Sharma",
            "MH12 AB 1234",
            "pre_approved",
        )
        assert dt.datetime.fromisoformat(body["expected_at"]) == dt.datetime.fromisoformat(later)
        assert body["invite_code"] == invite["invite_code"], "the visitor keeps the code they were sent"
        (seen,) = await booth.wait_for("invite_updated")
        assert seen["data"]["name"] == "Priya Sharma"
        await home.wait_for("invite_updated")
        await settle()
        assert elsewhere.events == []
    finally:
        for listener in (booth, home, elsewhere):
            await listener.close()
    housemate = await api.client.patch(
        f"/v1/visitors/{invite['id']}", json={"purpose": "dinner"}, headers=gate.housemate.headers
    )
    assert housemate.status_code == 200, "anyone living in the flat may change its invitations"


async def test_a_cancelled_invitation_lets_nobody_in(api: Api, server, gate: Gate) -> None:
    invite = await _invite(api, gate, "Cancelled Guest")
    booth = await connect(server.url, gate.guard.access_token)
    try:
        assert (await booth.join("society", gate.society.id))["ok"] is True
        gone = await api.client.delete(f"/v1/visitors/{invite['id']}", headers=gate.resident.headers)
        assert gone.status_code == 204, gone.text
        (seen,) = await booth.wait_for("invite_cancelled")
        assert (seen["data"]["id"], seen["data"]["status"]) == (invite["id"], "cancelled")
    finally:
        await booth.close()
    refused = await api.post("/v1/visits/checkin", {"invite_code": invite["invite_code"]}, gate.guard)
    assert refused.status_code == 409 and refused.json()["error"]["details"] == {"status": "cancelled"}
    again = await api.client.delete(f"/v1/visitors/{invite['id']}", headers=gate.resident.headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "invite_closed"
    late = await api.client.patch(f"/v1/visitors/{invite['id']}", json={"name": "X"}, headers=gate.resident.headers)
    assert late.status_code == 409
    listed = await api.get("/v1/visitors", gate.resident, params={"status": "cancelled"})
    assert [v["id"] for v in listed.json()["items"]] == [invite["id"]]


async def test_nobody_else_changes_an_invitation(api: Api, gate: Gate) -> None:
    invite = await _invite(api, gate, "Guarded Guest")
    path = f"/v1/visitors/{invite['id']}"
    neighbour = await api.client.patch(path, json={"name": "Hijacked"}, headers=gate.neighbour.headers)
    assert neighbour.status_code == 404, "another flat's invitation is not even there"
    assert (await api.client.delete(path, headers=gate.neighbour.headers)).status_code == 404
    assert (await api.client.delete(path, headers=gate.other_guard.headers)).status_code == 404
    guard = await api.client.patch(path, json={"name": "Hijacked"}, headers=gate.guard.headers)
    assert guard.status_code == 403, "the gate reads invitations, it does not write them"
    too_far = await api.client.patch(path, json={"expected_at": _at(24 * 100)}, headers=gate.resident.headers)
    assert too_far.status_code == 422 and too_far.json()["error"]["code"] == "invalid_expected_at"
    assert (await api.client.patch(path, json={"name": None}, headers=gate.resident.headers)).status_code == 422
    assert (await api.client.patch(path, json={"name": ""}, headers=gate.resident.headers)).status_code == 422
    walked = await walk_in(api, gate, "Uninvited")
    not_invited = await api.client.patch(
        f"/v1/visitors/{walked['id']}", json={"name": "X"}, headers=gate.resident.headers
    )
    assert not_invited.status_code == 409 and not_invited.json()["error"]["code"] == "not_an_invite"
    kept = await api.get("/v1/visitors", gate.resident, params={"status": "pre_approved"})
    assert [v["name"] for v in kept.json()["items"] if v["id"] == invite["id"]] == ["Guarded Guest"]
    checked = await api.post("/v1/visits/checkin", {"invite_code": invite["invite_code"]}, gate.guard)
    assert checked.status_code == 201, checked.text
    after = await api.client.delete(path, headers=gate.resident.headers)
    assert after.status_code == 409 and after.json()["error"]["details"] == {"status": "checked_in"}
