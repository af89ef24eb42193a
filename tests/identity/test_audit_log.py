"""The audit log: sign-ins and failed ones (with the method and why), password changes, role grants and
admin edits, read by admins only, filtered by actor, action, target and time."""

from __future__ import annotations

import datetime as dt

from tests.helpers import PASSWORD, Api, User


async def _log(api: Api, admin: User, **params: str) -> list[dict]:
    answer = await api.get("/v1/audit", admin, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


async def test_sign_ins_and_changes_are_in_the_audit_log(api: Api, admin: User) -> None:
    user = await api.signup("Audited Person")
    wrong = await api.client.post("/v1/auth/login", json={"email": user.email, "password": "not-it-at-all"})
    assert wrong.status_code == 401
    await api.login(user.email)
    name = f"audited{user.id[:8]}"
    assert (await api.client.patch("/v1/profile/me", json={"username": name}, headers=user.headers)).status_code == 200
    by_name = await api.client.post("/v1/auth/login", json={"username": name, "password": PASSWORD})
    assert by_name.status_code == 200
    changed = await api.post(
        "/v1/profile/me/password", {"current_password": PASSWORD, "new_password": "another-long-password"}, user
    )
    assert changed.status_code == 204
    society = await api.society(admin, flats=1)
    await api.grant(admin, user, "resident", "flat", society.flats[0])

    mine = await _log(api, admin, actor_id=user.id)
    assert [e["action"] for e in mine] == [
        "user.password_changed",
        "session.signed_in",
        "profile.updated",
        "session.signed_in",
        "session.signed_in",
        "user.signup",
    ], "newest first"
    assert [e["details"]["method"] for e in mine if e["action"] == "session.signed_in"] == [
        "username",
        "password",
        "signup",
    ]
    assert all(e["actor_name"] == "Audited Person" for e in mine)
    (failed,) = await _log(api, admin, action="session.sign_in_failed", resource_id=user.id)
    assert (failed["actor_id"], failed["details"]) == (None, {"method": "password", "reason": "wrong_password"})
    sessions = await _log(api, admin, action="session.", actor_id=user.id)
    assert {e["action"] for e in sessions} == {"session.signed_in"}, "a prefix ending in a dot takes the kind"
    (granted,) = await _log(
        api, admin, action="role.granted", actor_id=admin.id, resource_type="role_assignment", limit="1"
    )
    assert granted["details"]["role"] == "resident"
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    assert await _log(api, admin, actor_id=user.id, **{"from": later}) == []

    page = await api.get("/v1/audit", admin, params={"actor_id": user.id, "limit": "4"})
    rest = await api.get("/v1/audit", admin, params={"actor_id": user.id, "cursor": page.json()["next_cursor"]})
    assert [e["id"] for e in page.json()["items"] + rest.json()["items"]] == [e["id"] for e in mine]


async def test_only_admins_read_the_audit_log_and_bad_filters_are_clear(api: Api, admin: User) -> None:
    user = await api.signup("Curious")
    assert (await api.get("/v1/audit", user)).status_code == 403
    assert (await api.get("/v1/audit")).status_code == 401
    for params in (
        {"cursor": "nonsense"},
        {"action": "DROP TABLE"},
        {"actor_id": "not-a-uuid"},
        {"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
        {"from": "yesterday"},
    ):
        answer = await api.get("/v1/audit", admin, params=params)
        assert answer.status_code == 422, (params, answer.text)
