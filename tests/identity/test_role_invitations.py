"""Inviting someone who has no account yet: the scope admin names an e-mail address or a phone number and a
role; a code goes there through the gateway; the person signs up and shows the code from an account with
that address or number, and the role is theirs. Nobody else's code, account or place works."""

from __future__ import annotations

import asyncio
import uuid

from tests.gateway import Gateway
from tests.helpers import Api, User


async def _code(gateway: Gateway, to: str) -> str:
    for _ in range(100):
        sent = [m for m in gateway.messages if m["to"] == to and m["template"] == "role_invitation"]
        if sent:
            return sent[-1]["data"]["code"]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no invitation reached the gateway for {to}")


async def _chair(api: Api, admin: User) -> tuple[User, object]:
    society = await api.society(admin, flats=2)
    chair = await api.signup("Invite Chair")
    await api.grant(admin, chair, "society_admin", "society", society.id)
    return chair, society


async def test_an_invited_address_signs_up_and_takes_the_role_with_its_code(
    notify_api: Api, gateway: Gateway, admin_credentials
) -> None:
    api = notify_api
    admin = await api.login(*admin_credentials)
    chair, society = await _chair(api, admin)
    email = f"new-guard-{uuid.uuid4().hex[:8]}@example.com"
    invited = await api.post(
        "/v1/role-invitations",
        {"email": email, "role": "guard", "scope_type": "society", "scope_id": society.id},
        chair,
    )
    assert invited.status_code == 201, invited.text
    assert (invited.json()["email"], invited.json()["claimed_at"]) == (email, None)
    code = await _code(gateway, email)
    waiting = await api.get("/v1/role-invitations", chair, params={"scope_type": "society", "scope_id": society.id})
    assert [i["id"] for i in waiting.json()["items"]] == [invited.json()["id"]]

    someone = await api.signup("Code Thief")
    stolen = await api.post("/v1/role-invitation-claims", {"code": code}, someone)
    assert stolen.status_code == 404 and stolen.json()["error"]["code"] == "invalid_code", (
        "the code is for that address"
    )
    newcomer = await api.signup("New Guard", email=email)
    assert (await api.post("/v1/role-invitation-claims", {"code": "ABCDEFGH"}, newcomer)).status_code == 404
    taken = await api.post("/v1/role-invitation-claims", {"code": code}, newcomer)
    assert taken.status_code == 200, taken.text
    assert (taken.json()["role"], taken.json()["scope_id"]) == ("guard", society.id)
    societies = (await api.get("/v1/profile/me", newcomer)).json()["societies"]
    assert [(s["id"], s["role"]) for s in societies] == [(society.id, "guard")]
    assert (await api.post("/v1/role-invitation-claims", {"code": code}, newcomer)).status_code == 404, "once"
    still = await api.get("/v1/role-invitations", chair, params={"scope_type": "society", "scope_id": society.id})
    assert still.json()["items"] == []


async def test_a_phone_number_is_invited_by_sms_and_matched_by_its_digits(
    notify_api: Api, gateway: Gateway, admin_credentials
) -> None:
    api = notify_api
    admin = await api.login(*admin_credentials)
    chair, society = await _chair(api, admin)
    digits = f"9{uuid.uuid4().int % 10**9:09d}"
    body = {"phone": f"+91 {digits}", "role": "resident", "scope_type": "flat", "scope_id": society.flats[1]}
    assert (await api.post("/v1/role-invitations", body, chair)).status_code == 201
    code = await _code(gateway, f"+91 {digits}")
    assert [m["channel"] for m in gateway.messages if m["to"] == f"+91 {digits}"] == ["sms"]
    newcomer = await api.signup("New Tenant", phone=f"+91-{digits[:5]}-{digits[5:]}")
    taken = await api.post("/v1/role-invitation-claims", {"code": code}, newcomer)
    assert taken.status_code == 200 and taken.json()["scope_id"] == society.flats[1], taken.text


async def test_who_may_invite_and_a_cancelled_invitation(notify_api: Api, gateway: Gateway, admin_credentials) -> None:
    api = notify_api
    admin = await api.login(*admin_credentials)
    chair, society = await _chair(api, admin)
    other_chair, other = await _chair(api, admin)
    guard = await api.signup("Plain Guard")
    await api.grant(admin, guard, "guard", "society", society.id)
    email = f"maybe-{uuid.uuid4().hex[:8]}@example.com"
    body = {"email": email, "role": "guard", "scope_type": "society", "scope_id": society.id}
    assert (await api.post("/v1/role-invitations", body, guard)).status_code == 403, "a guard hands out nothing"
    assert (await api.post("/v1/role-invitations", body, other_chair)).status_code == 403, "another society's admin"
    assert (await api.post("/v1/role-invitations", {**body, "role": "mall_admin"}, chair)).status_code == 422
    assert (await api.post("/v1/role-invitations", {**body, "phone": "+91 90000 00000"}, chair)).status_code == 422
    assert (await api.post("/v1/role-invitations", {**body, "scope_id": str(uuid.uuid4())}, chair)).status_code == 404
    assert (
        await api.get("/v1/role-invitations", other_chair, params={"scope_type": "society", "scope_id": society.id})
    ).status_code == 403

    invited = (await api.post("/v1/role-invitations", body, chair)).json()
    code = await _code(gateway, email)
    assert (
        await api.client.delete(f"/v1/role-invitations/{invited['id']}", headers=other_chair.headers)
    ).status_code == 403
    assert (await api.client.delete(f"/v1/role-invitations/{invited['id']}", headers=chair.headers)).status_code == 204
    again = await api.client.delete(f"/v1/role-invitations/{invited['id']}", headers=chair.headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "invitation_closed"
    newcomer = await api.signup("Too Late", email=email)
    assert (await api.post("/v1/role-invitation-claims", {"code": code}, newcomer)).status_code == 404
    assert other.id != society.id
