"""People: admins find accounts and change or delete them; everyone keeps their own name, phone, photo and
username, signs in by e-mail or username, and changes their password, which ends their other sessions
(their sockets too)."""

from __future__ import annotations

import uuid

from app.platform.db import Database
from tests.helpers import PASSWORD, Api, User, connect


def _tag() -> str:
    return uuid.uuid4().hex[:8]


async def _patch(api: Api, path: str, body: dict, user: User):
    return await api.client.patch(path, json=body, headers=user.headers)


async def test_an_admin_finds_people_by_name_email_phone_and_role(api: Api, admin: User) -> None:
    tag = _tag()
    phone = f"+91 9{uuid.uuid4().int % 10**9:09d}"
    asha = await api.signup(f"Asha Zq{tag} Rao", phone=phone)
    ravi = await api.signup(f"Ravi Zq{tag}")
    society = await api.society(admin, flats=1)
    await api.grant(admin, ravi, "resident", "flat", society.flats[0])

    async def found(**params: str) -> list[str]:
        answer = await api.get("/v1/users", admin, params=params)
        assert answer.status_code == 200, answer.text
        return [p["id"] for p in answer.json()["items"]]

    assert await found(q=f"zq{tag}") == [asha.id, ravi.id], "a word of the name, by its start, sorted by name"
    assert await found(q=f"ash zq{tag}") == [asha.id], "every word must match"
    assert await found(q=asha.email[:12].upper()) == [asha.id], "the start of the e-mail, any case"
    assert await found(q=phone[:10]) == [asha.id], "the start of the phone number"
    assert await found(q=f"zq{tag}", role="resident") == [ravi.id]
    assert await found(role="resident", scope_type="flat", scope_id=society.flats[0]) == [ravi.id]
    flat = {"role": "resident", "scope_type": "flat", "scope_id": society.flats[0]}
    assert await found(q="%", **flat) == [] and await found(q="'; DROP TABLE users; --", **flat) == []
    one = await api.get("/v1/users", admin, params={"q": f"zq{tag}", "limit": "1"})
    rest = await api.get("/v1/users", admin, params={"q": f"zq{tag}", "cursor": one.json()["next_cursor"]})
    assert [p["id"] for p in one.json()["items"] + rest.json()["items"]] == [asha.id, ravi.id]
    assert rest.json()["next_cursor"] is None
    person = (await api.get(f"/v1/users/{ravi.id}", admin)).json()
    assert [(r["role"], r["scope_type"], r["scope_id"]) for r in person["roles"]] == [
        ("customer", "global", None),
        ("resident", "flat", society.flats[0]),
    ]
    assert person["disabled"] is False and person["email"] == ravi.email

    assert (await api.get("/v1/users", ravi)).status_code == 403
    assert (await api.get(f"/v1/users/{asha.id}", ravi)).status_code == 403, "only an admin sees another's account"
    assert (await api.get(f"/v1/users/{ravi.id}", ravi)).status_code == 200, "one's own, yes"
    assert (await api.get("/v1/users", admin, params={"cursor": "bogus"})).status_code == 422
    assert (await api.get("/v1/users", admin, params={"role": "Not A Role!"})).status_code == 422


async def test_an_admin_changes_and_disables_an_account(api: Api, admin: User, server) -> None:
    user = await api.signup("Changeable")
    other = await api.signup("Username Holder")
    held = f"holder.{_tag()}"
    assert (await _patch(api, "/v1/profile/me", {"username": held}, other)).status_code == 200
    socket = await connect(server.url, user.access_token)
    try:
        changed = await _patch(
            api, f"/v1/users/{user.id}", {"name": "Changed Name", "phone": "+91 99999 00000", "disabled": True}, admin
        )
        assert changed.status_code == 200, changed.text
        assert (changed.json()["name"], changed.json()["disabled"]) == ("Changed Name", True)
        assert await socket.closed_by_server(), "disabling ends the live socket"
    finally:
        await socket.close()
    refused = await api.client.post("/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    assert refused.status_code == 403
    enabled = await _patch(api, f"/v1/users/{user.id}", {"disabled": False}, admin)
    assert enabled.json()["disabled"] is False
    taken = await _patch(api, f"/v1/users/{user.id}", {"username": held.upper()}, admin)
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "username_taken"
    assert (await api.get(f"/v1/users/{user.id}", admin)).json()["name"] == "Changed Name", "nothing half-done"
    assert (await _patch(api, f"/v1/users/{user.id}", {"name": None}, admin)).status_code == 422
    assert (
        await _patch(api, f"/v1/users/{user.id}", {"image_url": "http://plain.example/x.png"}, admin)
    ).status_code == 422
    assert (await _patch(api, f"/v1/users/{user.id}", {"name": "Nope"}, other)).status_code == 403
    assert (await _patch(api, f"/v1/users/{uuid.uuid4()}", {"name": "Nobody"}, admin)).status_code == 404
    own = await _patch(api, f"/v1/users/{admin.id}", {"disabled": True}, admin)
    assert own.status_code == 409 and own.json()["error"]["code"] == "cannot_disable_self"


async def test_deleting_an_account_erases_who_it_was_and_keeps_what_it_did(api: Api, admin: User, db: Database) -> None:
    leaving = await api.signup("Leaving Person", phone="+91 98765 43210")
    assert (await _patch(api, "/v1/profile/me", {"username": f"leaver{_tag()}"}, leaving)).status_code == 200
    mall = await api.created("/v1/malls", {"name": f"Mall {_tag()}", "timezone": "Asia/Kolkata"}, admin)
    shop = await api.created("/v1/shops", {"mall_id": mall["id"], "name": "Kiosk", "shop_type": "retail"}, admin)
    await api.grant(admin, leaving, "employee", "shop", shop["id"])
    item = await api.created("/v1/products", {"shop_id": shop["id"], "name": "Pen", "price": 1000}, admin)
    line = {"product_id": item["id"]}
    order = await api.created("/v1/orders", {"shop_id": shop["id"], "items": [line]}, leaving)

    assert (await api.client.delete(f"/v1/users/{leaving.id}", headers=leaving.headers)).status_code == 403
    gone = await api.client.delete(f"/v1/users/{leaving.id}", headers=admin.headers)
    assert gone.status_code == 204, gone.text
    assert (await api.get(f"/v1/users/{leaving.id}", admin)).status_code == 404
    assert (await api.client.delete(f"/v1/users/{leaving.id}", headers=admin.headers)).status_code == 404
    assert (await api.get("/v1/users", admin, params={"q": "Leaving Person"})).json()["items"] == []
    refused = await api.client.post("/v1/auth/login", json={"email": leaving.email, "password": PASSWORD})
    assert refused.status_code == 401
    assert (await api.get("/v1/profile/me", leaving)).status_code == 401, "its sessions ended"
    async with db.connection() as conn:
        row = await conn.fetchrow(
            """SELECT name, email, username, phone, password_hash, deleted_at IS NOT NULL AS deleted,
                      (SELECT count(*) FROM role_assignments WHERE user_id = users.id) AS roles
               FROM users WHERE id = $1""",
            uuid.UUID(leaving.id),
        )
        placed_by = await conn.fetchval("SELECT placed_by FROM orders WHERE id = $1", uuid.UUID(order["id"]))
        audited = await conn.fetchval(
            "SELECT count(*) FROM audit_logs WHERE action = 'user.deleted' AND resource_id = $1", leaving.id
        )
    assert dict(row) == {
        "name": "Deleted user",
        "email": None,
        "username": None,
        "phone": None,
        "password_hash": None,
        "deleted": True,
        "roles": 0,
    }
    assert str(placed_by) == leaving.id, "the order still says who rang it up"
    assert audited == 1
    again = await api.signup("Leaving Person", email=leaving.email)
    assert again.id != leaving.id, "the e-mail is free for a new account"


async def test_people_keep_their_own_profile_and_sign_in_by_username(api: Api) -> None:
    user = await api.signup("Self Service")
    name = f"Self.Service-{_tag()}"
    changed = await _patch(
        api,
        "/v1/profile/me",
        {"name": "Self S.", "phone": "+44 20 7946 0000", "username": name, "image_url": "/media/" + "a" * 64 + ".png"},
        user,
    )
    assert changed.status_code == 200, changed.text
    me = (await api.get("/v1/profile/me", user)).json()["user"]
    assert (me["name"], me["username"], me["image_url"]) == ("Self S.", name, "/media/" + "a" * 64 + ".png")
    by_name = await api.client.post("/v1/auth/login", json={"username": name.lower(), "password": PASSWORD})
    assert by_name.status_code == 200 and by_name.json()["user"]["id"] == user.id
    both = await api.client.post("/v1/auth/login", json={"username": name, "email": user.email, "password": PASSWORD})
    assert both.status_code == 422
    wrong = await api.client.post("/v1/auth/login", json={"username": name, "password": "not-the-password"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_credentials"
    unknown = await api.client.post("/v1/auth/login", json={"username": f"nobody{_tag()}", "password": PASSWORD})
    assert unknown.status_code == 401
    assert (await _patch(api, "/v1/profile/me", {"username": "a b"}, user)).status_code == 422
    assert (await _patch(api, "/v1/profile/me", {"phone": None}, user)).json()["phone"] is None
    assert (await _patch(api, "/v1/profile/me", {"disabled": True}, user)).json()["disabled"] is False, (
        "an admin's field is ignored on one's own profile"
    )


async def test_changing_the_password_ends_the_other_sessions_and_their_sockets(api: Api, server, db: Database) -> None:
    phone = await api.signup("Two Devices")
    laptop = await api.login(phone.email)
    socket = await connect(server.url, laptop.access_token)
    own_socket = await connect(server.url, phone.access_token)
    try:
        body = {"current_password": "wrong-password-1", "new_password": "a-brand-new-password"}
        wrong = await api.post("/v1/profile/me/password", body, phone)
        assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_credentials"
        weak = await api.post(
            "/v1/profile/me/password", {"current_password": PASSWORD, "new_password": "password"}, phone
        )
        assert weak.status_code == 422
        changed = await api.post(
            "/v1/profile/me/password", {"current_password": PASSWORD, "new_password": "a-brand-new-password"}, phone
        )
        assert changed.status_code == 204, changed.text
        assert await socket.closed_by_server(), "the other session's socket is closed"
        assert not await own_socket.closed_by_server(timeout=1.0), "this session's socket stays"
    finally:
        await socket.close()
        await own_socket.close()
    assert (await api.get("/v1/profile/me", laptop)).status_code == 401
    stale = await api.post("/v1/auth/refresh", {"refresh_token": laptop.refresh_token})
    assert stale.status_code == 401
    assert (await api.get("/v1/profile/me", phone)).status_code == 200
    old = await api.client.post("/v1/auth/login", json={"email": phone.email, "password": PASSWORD})
    assert old.status_code == 401
    assert (await api.login(phone.email, "a-brand-new-password")).id == phone.id
    async with db.connection() as conn:
        changed_at = await conn.fetchval("SELECT password_changed_at FROM users WHERE id = $1", uuid.UUID(phone.id))
    assert changed_at is not None


async def _holders(api: Api, user: User, scope_type: str, scope_id: str, **params: str):
    return await api.get(
        "/v1/role-assignments", user, params={"scope_type": scope_type, "scope_id": scope_id, **params}
    )


async def test_a_scope_admin_lists_the_people_of_their_place_and_no_other(api: Api, admin: User) -> None:
    home, away = await api.society(admin, flats=2), await api.society(admin, flats=1)
    chair, guard, resident = await api.signup("Aa Chair"), await api.signup("Bb Guard"), await api.signup("Cc Resident")
    other_chair = await api.signup("Other Chair")
    await api.grant(admin, chair, "society_admin", "society", home.id)
    await api.grant(admin, guard, "guard", "society", home.id)
    await api.grant(admin, resident, "resident", "flat", home.flats[1])
    await api.grant(admin, other_chair, "society_admin", "society", away.id)

    listed = await _holders(api, chair, "society", home.id)
    assert listed.status_code == 200, listed.text
    seen = [(h["name"], h["role"], h["scope_type"], h["scope_id"]) for h in listed.json()["items"]]
    assert seen == [
        ("Aa Chair", "society_admin", "society", home.id),
        ("Bb Guard", "guard", "society", home.id),
        ("Cc Resident", "resident", "flat", home.flats[1]),
    ], "the society's own people and its flats' residents, by name"
    guards = (await _holders(api, chair, "society", home.id, role="guard")).json()["items"]
    assert [(g["user_id"], g["email"]) for g in guards] == [(guard.id, guard.email)]
    flat = (await _holders(api, chair, "flat", home.flats[1])).json()["items"]
    assert [h["user_id"] for h in flat] == [resident.id]
    first = await _holders(api, chair, "society", home.id, limit="2")
    rest = await _holders(api, chair, "society", home.id, cursor=first.json()["next_cursor"])
    assert [h["name"] for h in first.json()["items"] + rest.json()["items"]] == ["Aa Chair", "Bb Guard", "Cc Resident"]

    assert (await _holders(api, other_chair, "society", home.id)).status_code == 403, "another society's admin"
    assert (await _holders(api, other_chair, "flat", home.flats[0])).status_code == 403
    assert (await _holders(api, guard, "society", home.id)).status_code == 403, "a guard manages nobody"
    assert (await _holders(api, resident, "flat", home.flats[1])).status_code == 403
    assert (await _holders(api, chair, "society", str(uuid.uuid4()))).status_code == 404
    assert (await _holders(api, admin, "society", home.id)).status_code == 200
    assert (await api.get("/v1/role-assignments", chair, params={"scope_type": "society"})).status_code == 422


async def test_a_mall_admin_sees_the_staff_of_its_shops_and_a_shop_manager_only_their_shop(
    api: Api, admin: User
) -> None:
    mall = await api.created("/v1/malls", {"name": f"Mall {_tag()}", "timezone": "Asia/Kolkata"}, admin)
    cafe = await api.created("/v1/shops", {"mall_id": mall["id"], "name": "Cafe", "shop_type": "cafe"}, admin)
    kiosk = await api.created("/v1/shops", {"mall_id": mall["id"], "name": "Kiosk", "shop_type": "retail"}, admin)
    boss, guard, manager, barista = (
        await api.signup("Mall Boss"),
        await api.signup("Night Security"),
        await api.signup("Cafe Manager"),
        await api.signup("Barista"),
    )
    await api.grant(admin, boss, "mall_admin", "mall", mall["id"])
    await api.grant(admin, guard, "security", "mall", mall["id"])
    await api.grant(admin, manager, "shop_manager", "shop", cafe["id"])
    await api.grant(manager, barista, "employee", "shop", cafe["id"])

    everyone = (await _holders(api, boss, "mall", mall["id"])).json()["items"]
    assert {(h["user_id"], h["role"]) for h in everyone} == {
        (boss.id, "mall_admin"),
        (guard.id, "security"),
        (manager.id, "shop_manager"),
        (barista.id, "employee"),
    }
    staff = (await _holders(api, manager, "shop", cafe["id"])).json()["items"]
    assert [(h["user_id"], h["role"]) for h in staff] == [(barista.id, "employee"), (manager.id, "shop_manager")]
    assert (await _holders(api, manager, "shop", kiosk["id"])).status_code == 403, "another shop"
    assert (await _holders(api, manager, "mall", mall["id"])).status_code == 403, "a shop manager is not the mall's"
    assert (await _holders(api, barista, "shop", cafe["id"])).status_code == 403


async def test_the_profile_names_the_places_a_home_screen_shows(api: Api, admin: User) -> None:
    society = await api.society(admin, flats=2)
    mall = await api.created("/v1/malls", {"name": f"Mall {_tag()}", "timezone": "Asia/Kolkata"}, admin)
    shop = await api.created("/v1/shops", {"mall_id": mall["id"], "name": "Corner Cafe", "shop_type": "cafe"}, admin)
    person = await api.signup("Many Hats")
    await api.grant(admin, person, "resident", "flat", society.flats[1])
    await api.grant(admin, person, "guard", "society", society.id)
    await api.grant(admin, person, "employee", "shop", shop["id"])
    me = (await api.get("/v1/profile/me", person)).json()
    (flat,) = me["flats"]
    assert (flat["id"], flat["role"], flat["name"]) == (society.flats[1], "resident", "102")
    assert [(w["kind"], w["name"]) for w in flat["within"]] == [
        ("society", (await api.get(f"/v1/flats/{society.flats[1]}", person)).json()["society"]),
        ("complex", "Tower A"),
        ("block", "Block 1"),
    ]
    (guarded,) = me["societies"]
    assert guarded["name"].startswith("Society ") and guarded["within"] == []
    (works,) = me["shops"]
    assert (works["name"], works["within"]) == (
        "Corner Cafe",
        [{"kind": "mall", "id": mall["id"], "name": mall["name"]}],
    )


async def test_one_flat_with_its_names_for_those_who_live_or_guard_there(api: Api, admin: User) -> None:
    society, other = await api.society(admin, flats=2), await api.society(admin, flats=1)
    resident, neighbour, guard, stranger_guard = (
        await api.signup("Flat Owner"),
        await api.signup("Neighbour"),
        await api.signup("Gate Guard"),
        await api.signup("Other Gate"),
    )
    await api.grant(admin, resident, "resident", "flat", society.flats[0])
    await api.grant(admin, neighbour, "resident", "flat", society.flats[1])
    await api.grant(admin, guard, "guard", "society", society.id)
    await api.grant(admin, stranger_guard, "guard", "society", other.id)
    path = f"/v1/flats/{society.flats[0]}"
    flat = (await api.get(path, resident)).json()
    assert (flat["flat_number"], flat["block"], flat["complex"], flat["society_id"]) == (
        "101",
        "Block 1",
        "Tower A",
        society.id,
    )
    assert (await api.get(path, guard)).status_code == 200
    assert (await api.get(path, admin)).status_code == 200
    assert (await api.get(path, neighbour)).status_code == 404, "another flat's resident"
    assert (await api.get(path, stranger_guard)).status_code == 404, "another society's guard"
    assert (await api.get(f"/v1/flats/{uuid.uuid4()}", admin)).status_code == 404
