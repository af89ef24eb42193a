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


async def test_issues_are_found_by_state_type_source_shop_assignee_and_time(api: Api, mall: Mall) -> None:
    shop = await api.created(
        "/v1/shops", {"mall_id": mall.id, "name": "Shoe Palace", "shop_type": "retail"}, mall.mall_admin
    )
    employee = await _employee(api, mall, "Meera")
    at_shop = await api.created(
        "/v1/issues",
        {"mall_id": mall.id, "issue_type": "broken_light", "details": "Sign is dark", "shop_id": shop["id"]},
        mall.shopper,
    )
    spill = await _report(api, mall, employee)
    await api.post(f"/v1/issues/{spill['id']}/assign", {"user_ids": [employee.id]}, mall.security)

    async def found(**params: str) -> list[str]:
        response = await api.get("/v1/issues", mall.security, params={"mall_id": mall.id, **params})
        assert response.status_code == 200, response.text
        return [i["id"] for i in response.json()["items"]]

    assert await found(shop_id=shop["id"]) == [at_shop["id"]]
    assert await found(issue_type="spill") == [spill["id"]]
    assert await found(source="customer") == [at_shop["id"]]
    assert await found(assignee=employee.id) == [spill["id"]]
    assert await found(state="assigned", issue_type="broken_light") == []
    assert await found(to=at_shop["created_at"]) == [], "`to` is before, not at"
    assert await found(**{"from": spill["created_at"]}) == [spill["id"]]
    assert set(await found(**{"from": at_shop["created_at"], "to": "2199-01-01T00:00:00Z"})) == {
        at_shop["id"],
        spill["id"],
    }
    mine = await api.get("/v1/issues", employee, params={"mall_id": mall.id, "shop_id": shop["id"]})
    assert mine.json()["items"] == [], "staff see only their own issues, whatever the filter"
    for bad in ({"source": "robot"}, {"assignee": "me"}, {"from": "last week"}, {"issue_type": "x" * 51}):
        response = await api.get("/v1/issues", mall.security, params={"mall_id": mall.id, **bad})
        assert response.status_code == 422, (bad, response.text)


async def test_an_issue_names_only_a_shop_of_its_mall(api: Api, admin: User, mall: Mall) -> None:
    elsewhere = await api.created(
        "/v1/shops", {"mall_id": mall.other_id, "name": "Far Away", "shop_type": "retail"}, admin
    )
    body = {"mall_id": mall.id, "issue_type": "spill", "details": "Water", "shop_id": elsewhere["id"]}
    response = await api.post("/v1/issues", body, mall.shopper)
    assert response.status_code == 422 and response.json()["error"]["code"] == "shop_not_in_mall"
    listed = await api.get("/v1/issues", mall.security, params={"mall_id": mall.id})
    assert listed.json()["items"] == [], "nothing was written"


async def test_only_the_malls_admins_delete_an_issue(api: Api, server, mall: Mall) -> None:
    issue = await _report(api, mall, mall.shopper)
    staff_room = await connect(server.url, mall.security.access_token)
    try:
        await staff_room.join("mall", mall.id)
        url = f"/v1/issues/{issue['id']}"
        assert (await api.client.delete(url, headers=mall.shopper.headers)).status_code == 403, "the reporter"
        assert (await api.client.delete(url, headers=mall.security.headers)).status_code == 403
        assert (await api.client.delete(url, headers=mall.other_security.headers)).status_code == 404
        assert (await api.client.delete(url, headers=mall.mall_admin.headers)).status_code == 204
        (event,) = await staff_room.wait_for("issue_deleted")
        assert event["data"]["id"] == issue["id"]
    finally:
        await staff_room.close()
    assert (await api.get(url, mall.security)).status_code == 404
    assert (await api.client.delete(url, headers=mall.mall_admin.headers)).status_code == 404
    log = await api.get("/v1/audit", mall.mall_admin, params={"scope_type": "mall", "scope_id": mall.id})
    (row,) = [r for r in log.json()["items"] if r["action"] == "issue.deleted"]
    assert row["resource_id"] == issue["id"] and row["details"]["details"] == "Juice by the escalator"
