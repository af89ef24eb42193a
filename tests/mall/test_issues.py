"""Issues: reported by anyone, assigned to staff (who hear it at once, alone), moved only as the state
machine allows, every move kept; two staff moving one issue at once, one wins."""

from __future__ import annotations

import asyncio

from tests.helpers import Api, User, connect, settle
from tests.mall.conftest import Mall


async def _employee(api: Api, mall: Mall, name: str = "Kiran") -> User:
    shop = await api.created(
        "/v1/shops", {"mall_id": mall.id, "name": f"Shop of {name}", "shop_type": "retail"}, mall.mall_admin
    )
    employee = await api.signup(name)
    await api.grant(mall.mall_admin, employee, "employee", "shop", shop["id"])
    return employee


async def _report(api: Api, mall: Mall, who: User) -> dict:
    return await api.created(
        "/v1/issues",
        {"mall_id": mall.id, "issue_type": "spill", "details": "Juice by the escalator", "location": "L1"},
        who,
    )


async def test_an_issue_from_report_to_closed(api: Api, server, mall: Mall) -> None:
    employee, bystander = await _employee(api, mall), await _employee(api, mall, "Other")
    staff_room = await connect(server.url, mall.security.access_token)
    assignee = await connect(server.url, employee.access_token)
    other = await connect(server.url, bystander.access_token)
    try:
        assert (await staff_room.join("mall", mall.id))["ok"] is True
        issue = await _report(api, mall, mall.shopper)
        assert (issue["state"], issue["source"]) == ("open", "customer")
        assert (await staff_room.wait_for("issue_reported"))[0]["data"]["id"] == issue["id"]
        staff_issue = await _report(api, mall, employee)
        assert staff_issue["source"] == "staff"

        assigned = await api.post(f"/v1/issues/{issue['id']}/assign", {"user_ids": [employee.id]}, mall.security)
        assert assigned.status_code == 200 and assigned.json()["state"] == "assigned"
        assert assigned.json()["assignees"] == [employee.id]
        (mine,) = await assignee.wait_for("issue_assigned")
        assert mine["data"]["id"] == issue["id"]

        path = f"/v1/issues/{issue['id']}/move"
        assert (await api.post(path, {"to": "closed"}, employee)).status_code == 403, "assignees only move it forward"
        assert (await api.post(path, {"to": "in_progress"}, employee)).status_code == 200
        jump = await api.post(path, {"to": "closed"}, mall.security)
        assert jump.status_code == 409 and jump.json()["error"]["details"] == {
            "state": "in_progress",
            "allowed": ["resolved"],
        }
        assert (await api.post(path, {"to": "resolved", "note": "mopped"}, employee)).status_code == 200
        closed = await api.post(path, {"to": "closed"}, mall.security)
        assert closed.status_code == 200
        history = [(m["from_state"], m["to_state"]) for m in closed.json()["history"]]
        assert history == [
            (None, "open"),
            ("open", "assigned"),
            ("assigned", "in_progress"),
            ("in_progress", "resolved"),
            ("resolved", "closed"),
        ]
        assert closed.json()["history"][3]["note"] == "mopped"
        await settle()
        assert other.of("issue_assigned") == []
    finally:
        for listener in (staff_room, assignee, other):
            await listener.close()


async def test_who_sees_and_who_assigns(api: Api, mall: Mall) -> None:
    employee = await _employee(api, mall)
    issue = await _report(api, mall, mall.shopper)
    stranger = await api.signup("Stranger")
    assert (await api.get(f"/v1/issues/{issue['id']}", mall.shopper)).status_code == 200, "the reporter"
    assert (await api.get(f"/v1/issues/{issue['id']}", stranger)).status_code == 404
    assert (await api.get(f"/v1/issues/{issue['id']}", mall.other_security)).status_code == 404
    assert (
        await api.post(f"/v1/issues/{issue['id']}/assign", {"user_ids": [employee.id]}, mall.shopper)
    ).status_code == 403
    not_staff = await api.post(f"/v1/issues/{issue['id']}/assign", {"user_ids": [stranger.id]}, mall.security)
    assert not_staff.status_code == 422 and not_staff.json()["error"]["code"] == "not_staff"
    listed = await api.get("/v1/issues", mall.security, params={"mall_id": mall.id, "state": "open"})
    assert issue["id"] in [i["id"] for i in listed.json()["items"]]
    theirs = await api.get("/v1/issues", stranger, params={"mall_id": mall.id})
    assert theirs.json()["items"] == []
    for bad in ({"mall_id": mall.id, "issue_type": "", "details": "x"}, {"mall_id": mall.id, "issue_type": "x"}):
        assert (await api.post("/v1/issues", bad, mall.shopper)).status_code == 422


async def test_two_staff_moving_one_issue_at_once_one_wins(api: Api, admin: User, mall: Mall) -> None:
    issue = await _report(api, mall, mall.shopper)
    path = f"/v1/issues/{issue['id']}/move"
    results = await asyncio.gather(
        api.post(path, {"to": "in_progress"}, mall.security),
        api.post(path, {"to": "closed"}, mall.mall_admin),
        api.post(path, {"to": "assigned"}, mall.security),
    )
    assert sorted(r.status_code for r in results) == [200, 409, 409]
    final = (await api.get(f"/v1/issues/{issue['id']}", mall.security)).json()
    assert len(final["history"]) == 2
